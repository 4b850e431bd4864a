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
  ErrorState,
  LoadingState,
  PageHeader,
  Select,
  Table,
  TextInput,
} from "../../ui/index.ts";
import { StaffArea } from "./StaffArea.tsx";
import { formatDateTime, type Me, STAFF_ROLES, type StaffMember, staffPost } from "./staff-api.ts";

/** /console/staff: staff list with training status; create staff and record training (admin). */
export const StaffMembersPage = () => <StaffArea>{(me) => <Members me={me} />}</StaffArea>;

const Members = ({ me }: { me: Me }) => {
  const { t, i18n } = useTranslation();
  const list = useApi<{ staff: StaffMember[] }>("/api/v1/staff/members", {}, { withLang: false });
  const canManage = me.operations.includes("staff.manage");
  const canTrain = me.operations.includes("training.record");
  const [created, setCreated] = useState<{ name: string; password: string } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [form, setForm] = useState({ email: "", displayName: "", role: "support-agent" });
  const [training, setTraining] = useState({
    staffId: "",
    kind: "confidentiality",
    completedAt: "",
    expiresAt: "",
  });
  const [trainingDone, setTrainingDone] = useState<string | null>(null);
  const [statusDone, setStatusDone] = useState<string | null>(null);

  const setStatus = async (member: StaffMember, status: "active" | "suspended") => {
    setError(null);
    setStatusDone(null);
    try {
      await staffPost(`/api/v1/staff/members/${member.id}/status`, { status });
      setStatusDone(
        t(status === "suspended" ? "staff.members.suspended" : "staff.members.reactivated", {
          name: member.displayName,
        }),
      );
      list.reload();
    } catch (e) {
      setError(asApiError(e));
    }
  };

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const r = await staffPost<{ staff: StaffMember; oneTimePassword: string }>(
        "/api/v1/staff/members",
        form,
      );
      setCreated({ name: r.staff.displayName, password: r.oneTimePassword });
      setForm({ email: "", displayName: "", role: form.role });
      list.reload();
    } catch (e) {
      setError(asApiError(e));
    }
  };

  const record = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setTrainingDone(null);
    try {
      await staffPost(`/api/v1/staff/members/${training.staffId}/training`, {
        kind: training.kind,
        completedAt: training.completedAt,
        expiresAt: training.expiresAt || null,
      });
      setTrainingDone(t(`staff.training.kinds.${training.kind}`));
      list.reload();
    } catch (e) {
      setError(asApiError(e));
    }
  };

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
      {error ? <ErrorState error={error} /> : null}
      {created ? (
        <Alert tone="success" title={t("staff.members.createdTitle", { name: created.name })}>
          <p>
            {t("staff.members.oneTimePassword")}{" "}
            <code data-testid="one-time-password">{created.password}</code>
          </p>
        </Alert>
      ) : null}
      {statusDone ? <Alert tone="success">{statusDone}</Alert> : null}
      {list.status === "loading" ? <LoadingState /> : null}
      {list.status === "error" ? <ErrorState error={list.error} onRetry={list.reload} /> : null}
      {list.status === "ok" ? (
        <Table
          caption={t("staff.members.caption")}
          columns={columns}
          rows={list.data.staff}
          rowKey={(s) => s.id}
        />
      ) : null}
      {canManage ? (
        <Card title={t("staff.members.createTitle")}>
          <form className="ui-stack" onSubmit={create}>
            <TextInput
              label={t("staff.members.email")}
              type="email"
              required
              maxLength={320}
              value={form.email}
              onChange={(e) => setForm({ ...form, email: e.target.value })}
            />
            <TextInput
              label={t("staff.members.name")}
              required
              maxLength={100}
              value={form.displayName}
              onChange={(e) => setForm({ ...form, displayName: e.target.value })}
            />
            <Select
              label={t("staff.members.role")}
              value={form.role}
              onChange={(e) => setForm({ ...form, role: e.target.value })}
              options={STAFF_ROLES.map((r) => ({ value: r, label: t(`staff.roles.${r}`) }))}
            />
            <Button type="submit">{t("staff.members.create")}</Button>
          </form>
        </Card>
      ) : null}
      {canTrain && list.status === "ok" ? (
        <Card title={t("staff.training.title")}>
          <p className="ui-muted">{t("staff.training.lead")}</p>
          {trainingDone ? (
            <Alert tone="success">{t("staff.training.recorded", { kind: trainingDone })}</Alert>
          ) : null}
          <form className="ui-stack" onSubmit={record}>
            <Select
              label={t("staff.training.member")}
              required
              value={training.staffId}
              onChange={(e) => setTraining({ ...training, staffId: e.target.value })}
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
              value={training.kind}
              onChange={(e) => setTraining({ ...training, kind: e.target.value })}
              options={["confidentiality", "privacy-training"].map((k) => ({
                value: k,
                label: t(`staff.training.kinds.${k}`),
              }))}
            />
            <TextInput
              label={t("staff.training.completedAt")}
              type="date"
              required
              value={training.completedAt}
              onChange={(e) => setTraining({ ...training, completedAt: e.target.value })}
            />
            <TextInput
              label={t("staff.training.expiresAt")}
              hint={t("staff.training.expiresHint")}
              type="date"
              value={training.expiresAt}
              onChange={(e) => setTraining({ ...training, expiresAt: e.target.value })}
            />
            <Button type="submit">{t("staff.training.record")}</Button>
          </form>
        </Card>
      ) : null}
    </div>
  );
};
