import { useState } from "react";
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
  PageHeader,
  Select,
  Table,
  TextInput,
} from "../../ui/index.ts";
import { Loaded } from "./Loaded.tsx";
import { StaffArea } from "./StaffArea.tsx";
import { type AuditEvent, formatDateTime, type Me, staffPost } from "./staff-api.ts";
import { useStaffForm } from "./use-staff-form.ts";

type Filters = { actor: string; subject: string; action: string; outcome: string; category: string };
const EMPTY: Filters = { actor: "", subject: "", action: "", outcome: "", category: "" };
type VerifyResult = { ok: boolean; batches: number; events: number; unsealed?: number; brokenAt?: unknown };

/** /console/audit: the audit log, filterable, with chain verification (SEC-4). */
export const AuditLogPage = () => <StaffArea>{(me) => <AuditLog me={me} />}</StaffArea>;

const AuditLog = ({ me }: { me: Me }) => {
  const { t, i18n } = useTranslation();
  const draft = useStaffForm<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const events = useApi<{ events: AuditEvent[]; nextCursor: string | null }>(
    "/api/v1/audit/events",
    { ...filters, cursor },
    { withLang: false },
  );
  const [verify, setVerify] = useState<VerifyResult | null>(null);
  const verifying = useStaffForm({});

  const apply = draft.submit(async (v) => {
    setCursor(undefined);
    setFilters({ ...v, subject: v.subject.trim(), actor: v.actor.trim() });
  });

  const runVerify = () =>
    verifying.run(async () => {
      setVerify(null);
      setVerify(await staffPost<VerifyResult>("/api/v1/audit/verify"));
      events.reload();
    });

  const columns: Column<AuditEvent>[] = [
    {
      id: "time",
      header: t("staff.audit.time"),
      rowHeader: true,
      cell: (e) => formatDateTime(e.occurredAt, i18n.language),
    },
    { id: "actor", header: t("staff.audit.actor"), cell: (e) => <code>{e.actorId}</code> },
    { id: "action", header: t("staff.audit.action"), cell: (e) => e.action },
    {
      id: "subject",
      header: t("staff.audit.subject"),
      cell: (e) => (e.subjectId ? <code>{e.subjectId}</code> : "—"),
    },
    { id: "category", header: t("staff.audit.category"), cell: (e) => e.category ?? "—" },
    { id: "purpose", header: t("staff.audit.purpose"), cell: (e) => e.purpose ?? "—" },
    {
      id: "outcome",
      header: t("staff.audit.outcome"),
      cell: (e) => (
        <Badge tone={e.outcome === "allowed" ? "success" : "warning"}>
          {t(`staff.audit.outcomes.${e.outcome}`)}
          {e.reason ? ` · ${e.reason}` : ""}
        </Badge>
      ),
    },
    {
      id: "sealed",
      header: t("staff.audit.sealed"),
      cell: (e) =>
        e.batchId === null ? t("staff.audit.notSealed") : t("staff.audit.batch", { id: e.batchId }),
    },
  ];

  return (
    <div className="ui-stack">
      <PageHeader title={t("staff.audit.title")} lead={t("staff.audit.lead")} />
      {me.operations.includes("audit.verify") ? (
        <Card title={t("staff.audit.verifyTitle")}>
          <p className="ui-muted">{t("staff.audit.verifyLead")}</p>
          <Button onClick={runVerify} disabled={verifying.busy}>
            {t("staff.audit.verify")}
          </Button>
          {verify ? (
            <div data-testid="verify-result">
              {verify.ok ? (
                <Alert tone="success" title={t("staff.audit.verifyOk")}>
                  <p>
                    {t("staff.audit.verifyCounts", {
                      batches: verify.batches,
                      events: verify.events,
                      unsealed: verify.unsealed ?? 0,
                    })}
                  </p>
                </Alert>
              ) : (
                <Alert tone="error" title={t("staff.audit.verifyBroken")}>
                  <pre className="ui-pre">{JSON.stringify(verify.brokenAt, null, 2)}</pre>
                </Alert>
              )}
            </div>
          ) : null}
        </Card>
      ) : null}
      {verifying.error ? <ErrorState error={verifying.error} /> : null}
      <Card title={t("staff.audit.filters")}>
        <form className="ui-stack" onSubmit={apply}>
          <TextInput label={t("staff.audit.actor")} maxLength={200} {...draft.field("actor")} />
          <TextInput label={t("staff.audit.subject")} maxLength={36} {...draft.field("subject")} />
          <TextInput label={t("staff.audit.category")} maxLength={100} {...draft.field("category")} />
          <Select
            label={t("staff.audit.action")}
            {...draft.field("action")}
            options={[
              { value: "", label: t("staff.audit.any") },
              ...[
                "read",
                "grant",
                "approve",
                "reject",
                "revoke",
                "login",
                "create",
                "update",
                "verify",
                "export",
              ].map((a) => ({ value: a, label: a })),
            ]}
          />
          <Select
            label={t("staff.audit.outcome")}
            {...draft.field("outcome")}
            options={[
              { value: "", label: t("staff.audit.any") },
              ...["allowed", "denied", "error"].map((o) => ({
                value: o,
                label: t(`staff.audit.outcomes.${o}`),
              })),
            ]}
          />
          <Button type="submit" variant="secondary">
            {t("staff.audit.apply")}
          </Button>
        </form>
      </Card>
      <Loaded result={events}>
        {(data) =>
          data.events.length ? (
            <>
              <Table
                caption={t("staff.audit.caption")}
                columns={columns}
                rows={data.events}
                rowKey={(e) => String(e.id)}
              />
              {data.nextCursor ? (
                <Button variant="secondary" onClick={() => setCursor(data.nextCursor ?? undefined)}>
                  {t("staff.audit.older")}
                </Button>
              ) : null}
            </>
          ) : (
            <EmptyState title={t("staff.audit.none")} />
          )
        }
      </Loaded>
    </div>
  );
};
