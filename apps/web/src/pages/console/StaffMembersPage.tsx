import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useApi } from "../../api/use-api.ts";
import {
  Alert,
  Badge,
  Button,
  Card,
  type Column,
  ErrorState,
  PageHeader,
  Select,
  Table,
  TextInput,
} from "../../ui/index.ts";
import { Loaded } from "./Loaded.tsx";
import { StaffArea } from "./StaffArea.tsx";
import { formatDateTime, type Me, STAFF_ROLES, type StaffMember, staffPost } from "./staff-api.ts";
import { useStaffForm } from "./use-staff-form.ts";

/** /console/staff: staff list with training status; create staff and record training (admin). */
export const StaffMembersPage = () => <StaffArea>{(me) => <Members me={me} />}</StaffArea>;

const Members = ({ me }: { me: Me }) => {
  const { t, i18n } = useTranslation();
  const list = useApi<{ staff: StaffMember[] }>("/api/v1/staff/members", {}, { withLang: false });
  const canManage = me.operations.includes("staff.manage");
  const canTrain = me.operations.includes("training.record");
  const [created, setCreated] = useState<{ name: string; password: string } | null>(null);
  const statusAction = useStaffForm({});
  const member = useStaffForm({ email: "", displayName: "", role: "support-agent" });
  const training = useStaffForm({ staffId: "", kind: "confidentiality", completedAt: "", expiresAt: "" });

  const setStatus = (m: StaffMember, status: "active" | "suspended") =>
    statusAction.run(async () => {
      await staffPost(`/api/v1/staff/members/${m.id}/status`, { status });
      list.reload();
      return t(status === "suspended" ? "staff.members.suspended" : "staff.members.reactivated", {
        name: m.displayName,
      });
    });

  const create = member.submit(async (v) => {
    setCreated(null);
    const r = await staffPost<{ staff: StaffMember; oneTimePassword: string }>("/api/v1/staff/members", v);
    setCreated({ name: r.staff.displayName, password: r.oneTimePassword });
    member.setValues({ email: "", displayName: "", role: v.role });
    list.reload();
  });

  const record = training.submit(async (v) => {
    await staffPost(`/api/v1/staff/members/${v.staffId}/training`, {
      kind: v.kind,
      completedAt: v.completedAt,
      expiresAt: v.expiresAt || null,
    });
    list.reload();
    return t("staff.training.recorded", { kind: t(`staff.training.kinds.${v.kind}`) });
  });

  const columns: Column<StaffMember>[] = [
    { id: "name", header: t("staff.members.name"), rowHeader: true, cell: (s) => s.displayName },
    { id: "email", header: t("staff.members.email"), cell: (s) => s.email },
    { id: "role", header: t("staff.members.role"), cell: (s) => t(`staff.roles.${s.role}`) },
    {
      id: "mfa",
      header: t("staff.members.mfa"),
      cell: (s) => (
        <Badge tone={s.mfaEnrolled ? "success" : "warning"}>
          {s.mfaEnrolled ? t("staff.members.enrolled") : t("staff.members.notEnrolled")}
        </Badge>
      ),
    },
    {
      id: "training",
      header: t("staff.members.training"),
      cell: (s) => (
        <span>
          <Badge tone={s.training.eligible ? "success" : "warning"}>
            {t(`staff.training.reasons.${s.training.reason}`)}
          </Badge>{" "}
          {s.training.trainingExpiresAt
            ? t("staff.training.until", { date: formatDateTime(s.training.trainingExpiresAt, i18n.language) })
            : null}
        </span>
      ),
    },
    {
      id: "status",
      header: t("staff.members.status"),
      cell: (s) => (
        <span className="ui-row">
          <Badge tone={s.status === "active" ? "success" : "warning"}>
            {t(`staff.members.statuses.${s.status}`)}
          </Badge>
          {canManage && s.id !== me.staff.id ? (
            <Button
              variant="secondary"
              size="sm"
              aria-label={t(
                s.status === "active" ? "staff.members.suspendLabel" : "staff.members.reactivateLabel",
                { name: s.displayName },
              )}
              onClick={() => setStatus(s, s.status === "active" ? "suspended" : "active")}
            >
              {t(s.status === "active" ? "staff.members.suspend" : "staff.members.reactivate")}
            </Button>
          ) : null}
        </span>
      ),
    },
  ];

  return (
    <div className="ui-stack">
      <PageHeader title={t("staff.members.title")} lead={t("staff.members.lead")} />
      {statusAction.error ? <ErrorState error={statusAction.error} /> : null}
      {created ? (
        <Alert tone="success" title={t("staff.members.createdTitle", { name: created.name })}>
          <p>
            {t("staff.members.oneTimePassword")}{" "}
            <code data-testid="one-time-password">{created.password}</code>
          </p>
        </Alert>
      ) : null}
      {statusAction.done ? <Alert tone="success">{statusAction.done}</Alert> : null}
      <Loaded result={list}>
        {(data) => (
          <Table
            caption={t("staff.members.caption")}
            columns={columns}
            rows={data.staff}
            rowKey={(s) => s.id}
          />
        )}
      </Loaded>
      {canManage ? (
        <Card title={t("staff.members.createTitle")}>
          {member.error ? <ErrorState error={member.error} /> : null}
          <form className="ui-stack" onSubmit={create}>
            <TextInput
              label={t("staff.members.email")}
              type="email"
              required
              maxLength={320}
              {...member.field("email")}
            />
            <TextInput
              label={t("staff.members.name")}
              required
              maxLength={100}
              {...member.field("displayName")}
            />
            <Select
              label={t("staff.members.role")}
              {...member.field("role")}
              options={STAFF_ROLES.map((r) => ({ value: r, label: t(`staff.roles.${r}`) }))}
            />
            <Button type="submit" disabled={member.busy}>
              {t("staff.members.create")}
            </Button>
          </form>
        </Card>
      ) : null}
      {canTrain && list.status === "ok" ? (
        <Card title={t("staff.training.title")}>
          <p className="ui-muted">{t("staff.training.lead")}</p>
          {training.error ? <ErrorState error={training.error} /> : null}
          {training.done ? <Alert tone="success">{training.done}</Alert> : null}
          <form className="ui-stack" onSubmit={record}>
            <Select
              label={t("staff.training.member")}
              required
              {...training.field("staffId")}
              options={[
                { value: "", label: t("staff.training.choose") },
                ...list.data.staff.map((s) => ({
                  value: s.id,
                  label: `${s.displayName} (${t(`staff.roles.${s.role}`)})`,
                })),
              ]}
            />
            <Select
              label={t("staff.training.kind")}
              {...training.field("kind")}
              options={["confidentiality", "privacy-training"].map((k) => ({
                value: k,
                label: t(`staff.training.kinds.${k}`),
              }))}
            />
            <TextInput
              label={t("staff.training.completedAt")}
              type="date"
              required
              {...training.field("completedAt")}
            />
            <TextInput
              label={t("staff.training.expiresAt")}
              hint={t("staff.training.expiresHint")}
              type="date"
              {...training.field("expiresAt")}
            />
            <Button type="submit" disabled={training.busy}>
              {t("staff.training.record")}
            </Button>
          </form>
        </Card>
      ) : null}
    </div>
  );
};
