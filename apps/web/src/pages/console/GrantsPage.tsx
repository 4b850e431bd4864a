import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { type ApiError, asApiError } from "../../api/client.ts";
import { useApi } from "../../api/use-api.ts";
import {
  Alert,
  Badge,
  Button,
  Card,
  type Column,
  EmptyState,
  ErrorState,
  LoadingState,
  PageHeader,
  Select,
  Table,
  TextInput,
} from "../../ui/index.ts";
import { StaffArea } from "./StaffArea.tsx";
import { formatDateTime, type Grant, type Me, staffPost } from "./staff-api.ts";

/** /console/grants: request time-bound access, approve or reject others' requests, see expiry (SEC-8). */
export const GrantsPage = () => <StaffArea>{(me) => <Grants me={me} />}</StaffArea>;

const Grants = ({ me }: { me: Me }) => {
  const { t, i18n } = useTranslation();
  const grants = useApi<{ grants: Grant[] }>("/api/v1/staff/grants", {}, { withLang: false });
  const canRequest = me.operations.includes("grant.request");
  const canApprove =
    me.operations.includes("grant.approve") || me.operations.includes("grant.approve-children");
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [form, setForm] = useState({
    scope: "subject-pi",
    subjectId: "",
    categories: "registration",
    purpose: "customer-service",
    justification: "",
    hours: "1",
  });

  const request = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setDone(null);
    try {
      await staffPost("/api/v1/staff/grants", {
        scope: form.scope,
        ...(form.scope === "bulk-export" ? {} : { subjectId: form.subjectId.trim() }),
        categories: form.categories
          .split(",")
          .map((c) => c.trim())
          .filter(Boolean),
        purpose: form.purpose.trim(),
        justification: form.justification,
        durationMinutes: Math.round(Number(form.hours) * 60),
      });
      setDone(t("staff.grants.requested"));
      grants.reload();
    } catch (e) {
      setError(asApiError(e));
    }
  };

  const decide = async (grant: Grant, decision: "approve" | "reject") => {
    setError(null);
    setDone(null);
    try {
      await staffPost(`/api/v1/staff/grants/${grant.id}/${decision}`);
      setDone(t(decision === "approve" ? "staff.grants.approvedDone" : "staff.grants.rejectedDone"));
      grants.reload();
    } catch (e) {
      setError(asApiError(e));
    }
  };

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
      {error ? <ErrorState error={error} /> : null}
      {done ? <Alert tone="success">{done}</Alert> : null}
      {grants.status === "loading" ? <LoadingState /> : null}
      {grants.status === "error" ? <ErrorState error={grants.error} onRetry={grants.reload} /> : null}
      {grants.status === "ok" ? (
        grants.data.grants.length ? (
          <Table
            caption={t("staff.grants.caption")}
            columns={columns}
            rows={grants.data.grants}
            rowKey={(g) => g.id}
          />
        ) : (
          <EmptyState title={t("staff.grants.none")} />
        )
      ) : null}
      {canRequest ? (
        <Card title={t("staff.grants.requestTitle")}>
          <form className="ui-stack" onSubmit={request}>
            <Select
              label={t("staff.grants.scope")}
              value={form.scope}
              onChange={(e) => setForm({ ...form, scope: e.target.value })}
              options={["subject-pi", "children-pi", "bulk-export"].map((s) => ({
                value: s,
                label: t(`staff.grants.scopes.${s}`),
              }))}
            />
            {form.scope !== "bulk-export" ? (
              <TextInput
                label={t("staff.grants.subject")}
                required
                maxLength={36}
                value={form.subjectId}
                onChange={(e) => setForm({ ...form, subjectId: e.target.value })}
              />
            ) : null}
            <TextInput
              label={t("staff.grants.categories")}
              hint={t("staff.grants.categoriesHint")}
              required
              value={form.categories}
              onChange={(e) => setForm({ ...form, categories: e.target.value })}
            />
            <TextInput
              label={t("staff.grants.purpose")}
              hint={t("staff.grants.purposeHint")}
              required
              maxLength={100}
              value={form.purpose}
              onChange={(e) => setForm({ ...form, purpose: e.target.value })}
            />
            <TextInput
              label={t("staff.grants.justification")}
              hint={t("staff.grants.justificationHint")}
              required
              maxLength={500}
              value={form.justification}
              onChange={(e) => setForm({ ...form, justification: e.target.value })}
            />
            <TextInput
              label={t("staff.grants.hours")}
              type="number"
              min={0.25}
              max={8}
              step={0.25}
              required
              value={form.hours}
              onChange={(e) => setForm({ ...form, hours: e.target.value })}
            />
            <Button type="submit">{t("staff.grants.request")}</Button>
          </form>
        </Card>
      ) : null}
    </div>
  );
};
