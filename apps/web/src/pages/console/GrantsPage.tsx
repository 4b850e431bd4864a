import { useTranslation } from "react-i18next";
import { useApi } from "../../api/use-api.ts";
import {
  Alert,
  Badge,
  Button,
  Card,
  type Column,
  EmptyState,
  ErrorState,
  Field,
  PageHeader,
  Select,
  Table,
  TextInput,
} from "../../ui/index.ts";
import { Loaded } from "./Loaded.tsx";
import { StaffArea } from "./StaffArea.tsx";
import { type BulkExport, formatDateTime, type Grant, type Me, staffPost } from "./staff-api.ts";
import { useStaffForm } from "./use-staff-form.ts";

/** /console/grants: request time-bound access, approve or reject others' requests, see expiry (SEC-8). */
export const GrantsPage = () => <StaffArea>{(me) => <Grants me={me} />}</StaffArea>;

const Grants = ({ me }: { me: Me }) => {
  const { t, i18n } = useTranslation();
  const grants = useApi<{ grants: Grant[] }>("/api/v1/staff/grants", {}, { withLang: false });
  const canRequest = me.operations.includes("grant.request");
  const canApprove =
    me.operations.includes("grant.approve") || me.operations.includes("grant.approve-children");
  const decisions = useStaffForm({});
  const form = useStaffForm({
    scope: "subject-pi",
    subjectId: "",
    categories: "registration",
    purpose: "customer-service",
    justification: "",
    hours: "1",
  });

  const request = form.submit(async (v) => {
    await staffPost("/api/v1/staff/grants", {
      scope: v.scope,
      ...(v.scope === "bulk-export" ? {} : { subjectId: v.subjectId.trim() }),
      categories: v.categories
        .split(",")
        .map((c) => c.trim())
        .filter(Boolean),
      purpose: v.purpose.trim(),
      justification: v.justification,
      durationMinutes: Math.round(Number(v.hours) * 60),
    });
    grants.reload();
    return t("staff.grants.requested");
  });

  const decide = (grant: Grant, decision: "approve" | "reject") =>
    decisions.run(async () => {
      await staffPost(`/api/v1/staff/grants/${grant.id}/${decision}`);
      grants.reload();
      return t(decision === "approve" ? "staff.grants.approvedDone" : "staff.grants.rejectedDone");
    });

  // My own approved, unexpired bulk-export grants: each allows a download (SEC-3).
  const exportable =
    grants.status === "ok"
      ? grants.data.grants.filter(
          (g) =>
            g.scope === "bulk-export" &&
            g.status === "approved" &&
            g.staffId === me.staff.id &&
            g.expiresAt !== null &&
            new Date(g.expiresAt).getTime() > Date.now(),
        )
      : [];

  const tone = (s: Grant["status"]) => (s === "approved" ? "success" : s === "pending" ? "info" : "neutral");
  const columns: Column<Grant>[] = [
    {
      id: "subject",
      header: t("staff.grants.subject"),
      rowHeader: true,
      cell: (g) => <code>{g.subjectId ?? t("staff.grants.scopes.bulk-export")}</code>,
    },
    { id: "scope", header: t("staff.grants.scope"), cell: (g) => t(`staff.grants.scopes.${g.scope}`) },
    { id: "categories", header: t("staff.grants.categories"), cell: (g) => g.categories.join(", ") },
    { id: "purpose", header: t("staff.grants.purpose"), cell: (g) => `${g.purpose} · ${g.justification}` },
    {
      id: "status",
      header: t("staff.grants.status"),
      cell: (g) => <Badge tone={tone(g.status)}>{t(`staff.grants.statuses.${g.status}`)}</Badge>,
    },
    {
      id: "expires",
      header: t("staff.grants.expires"),
      cell: (g) =>
        g.expiresAt
          ? formatDateTime(g.expiresAt, i18n.language)
          : t("staff.grants.lasts", { minutes: g.durationMinutes }),
    },
    {
      id: "actions",
      header: t("staff.grants.actions"),
      cell: (g) =>
        canApprove && g.status === "pending" && g.staffId !== me.staff.id ? (
          <span className="ui-row">
            <Button size="sm" onClick={() => decide(g, "approve")}>
              {t("staff.grants.approve")}
              <span className="ui-visually-hidden"> · {g.subjectId ?? g.id}</span>
            </Button>
            <Button size="sm" variant="secondary" onClick={() => decide(g, "reject")}>
              {t("staff.grants.reject")}
              <span className="ui-visually-hidden"> · {g.subjectId ?? g.id}</span>
            </Button>
          </span>
        ) : (
          "—"
        ),
    },
  ];

  return (
    <div className="ui-stack">
      <PageHeader title={t("staff.grants.title")} lead={t("staff.grants.lead")} />
      {decisions.error ? <ErrorState error={decisions.error} /> : null}
      {decisions.done ? <Alert tone="success">{decisions.done}</Alert> : null}
      <Loaded result={grants}>
        {(data) =>
          data.grants.length ? (
            <Table
              caption={t("staff.grants.caption")}
              columns={columns}
              rows={data.grants}
              rowKey={(g) => g.id}
            />
          ) : (
            <EmptyState title={t("staff.grants.none")} />
          )
        }
      </Loaded>
      {exportable.length ? <BulkExportCard grants={exportable} /> : null}
      {canRequest ? (
        <Card title={t("staff.grants.requestTitle")}>
          {form.error ? <ErrorState error={form.error} /> : null}
          {form.done ? <Alert tone="success">{form.done}</Alert> : null}
          <form className="ui-stack" onSubmit={request}>
            <Select
              label={t("staff.grants.scope")}
              {...form.field("scope")}
              options={["subject-pi", "children-pi", "bulk-export"].map((s) => ({
                value: s,
                label: t(`staff.grants.scopes.${s}`),
              }))}
            />
            {form.values.scope !== "bulk-export" ? (
              <TextInput
                label={t("staff.grants.subject")}
                required
                maxLength={36}
                {...form.field("subjectId")}
              />
            ) : null}
            <TextInput
              label={t("staff.grants.categories")}
              hint={t("staff.grants.categoriesHint")}
              required
              {...form.field("categories")}
            />
            <TextInput
              label={t("staff.grants.purpose")}
              hint={t("staff.grants.purposeHint")}
              required
              maxLength={100}
              {...form.field("purpose")}
            />
            <TextInput
              label={t("staff.grants.justification")}
              hint={t("staff.grants.justificationHint")}
              required
              maxLength={500}
              {...form.field("justification")}
            />
            <TextInput
              label={t("staff.grants.hours")}
              type="number"
              min={0.25}
              max={8}
              step={0.25}
              required
              {...form.field("hours")}
            />
            <Button type="submit" disabled={form.busy}>
              {t("staff.grants.request")}
            </Button>
          </form>
        </Card>
      ) : null}
    </div>
  );
};

/** Subject ids typed or pasted one per line (or separated by commas or spaces), without repeats. */
const parseIds = (text: string) => [...new Set(text.split(/[\s,;]+/).filter(Boolean))];

/** Saves `data` as a JSON file through the browser's download. */
const saveJson = (data: unknown, fileName: string) => {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
};

/**
 * Bulk export under one of my approved bulk-export grants (SEC-3, SEC-2, CHD-8): the server masks
 * every value for my role, skips children, and records each exported subject in the audit log; the
 * answer is saved as a JSON file.
 */
const BulkExportCard = ({ grants }: { grants: Grant[] }) => {
  const { t, i18n } = useTranslation();
  const form = useStaffForm({ grantId: grants[0]?.id ?? "", subjectIds: "" });
  const grant = grants.find((g) => g.id === form.values.grantId) ?? grants[0];

  const download = form.submit(async (v) => {
    if (!grant) return null;
    const result = await staffPost<BulkExport>("/api/v1/staff/exports", {
      grantId: grant.id,
      subjectIds: parseIds(v.subjectIds),
      categories: grant.categories,
    });
    saveJson(result, `custos-export-${result.exportedAt.slice(0, 10)}-${grant.id.slice(0, 8)}.json`);
    return t("staff.export.done", { count: result.subjects.length, skipped: result.skipped.length });
  });

  return (
    <Card title={t("staff.export.title")}>
      <p className="ui-muted">{t("staff.export.lead")}</p>
      {form.error ? <ErrorState error={form.error} /> : null}
      {form.done ? (
        <Alert tone="success" title={t("staff.export.doneTitle")}>
          <p data-testid="export-result">{form.done}</p>
        </Alert>
      ) : null}
      <form className="ui-stack" onSubmit={download}>
        <Select
          label={t("staff.export.grant")}
          {...form.field("grantId")}
          options={grants.map((g) => ({
            value: g.id,
            label: t("staff.export.grantOption", {
              categories: g.categories.join(", "),
              purpose: g.purpose,
              date: formatDateTime(g.expiresAt, i18n.language),
            }),
          }))}
        />
        <Field label={t("staff.export.subjects")} hint={t("staff.export.subjectsHint")}>
          {({ id, describedBy }) => (
            <textarea
              id={id}
              className="ui-input"
              aria-describedby={describedBy}
              rows={5}
              required
              maxLength={40_000}
              spellCheck={false}
              {...form.field("subjectIds")}
            />
          )}
        </Field>
        <Button type="submit" disabled={form.busy}>
          {t("staff.export.download")}
        </Button>
      </form>
    </Card>
  );
};
