import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client.ts";
import { Alert, Button, Card, ErrorState, PageHeader, TextInput } from "../../ui/index.ts";
import { StaffArea } from "./StaffArea.tsx";
import { staffPost } from "./staff-api.ts";

/** /console/password: change your console password (ACC-5). */
export const StaffPasswordPage = () => <StaffArea>{() => <StaffPasswordForm forced={false} />}</StaffArea>;

/**
 * The password form. `forced`: shown by StaffArea instead of any page while the staff member
 * still has the one-time password they were given; `onDone` then reloads the console.
 */
export const StaffPasswordForm = ({ forced, onDone }: { forced: boolean; onDone?: () => void }) => {
  const { t } = useTranslation();
  const [form, setForm] = useState({ current: "", next: "", confirm: "" });
  const [error, setError] = useState<ApiError | null>(null);
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setDone(false);
    if (form.next !== form.confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    setBusy(true);
    try {
      await staffPost("/api/v1/staff/me/password", { current: form.current, next: form.next });
      setForm({ current: "", next: "", confirm: "" });
      setDone(true);
      onDone?.();
    } catch (e) {
      setError(
        e instanceof ApiError
          ? e
          : new ApiError({ status: 0, code: "unexpected", message: "unexpected", fromServer: false }),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="ui-stack">
      <PageHeader
        title={t("staff.password.title")}
        lead={forced ? t("staff.password.forcedLead") : t("staff.password.lead")}
      />
      {forced ? (
        <Alert tone="warning" title={t("staff.password.forcedTitle")}>
          <p>{t("staff.password.forcedBody")}</p>
        </Alert>
      ) : null}
      {done ? <Alert tone="success">{t("staff.password.changed")}</Alert> : null}
      {error ? <ErrorState error={error} /> : null}
      <Card title={t("staff.password.formTitle")}>
        <form className="ui-stack" onSubmit={submit} noValidate>
          <TextInput
            label={t("staff.password.current")}
            type="password"
            autoComplete="current-password"
            required
            maxLength={200}
            value={form.current}
            onChange={(e) => setForm({ ...form, current: e.target.value })}
          />
          <TextInput
            label={t("staff.password.next")}
            hint={t("staff.password.nextHint")}
            type="password"
            autoComplete="new-password"
            required
            minLength={12}
            maxLength={200}
            value={form.next}
            onChange={(e) => setForm({ ...form, next: e.target.value })}
          />
          <TextInput
            label={t("staff.password.confirm")}
            type="password"
            autoComplete="new-password"
            required
            maxLength={200}
            value={form.confirm}
            onChange={(e) => setForm({ ...form, confirm: e.target.value })}
            {...(mismatch ? { error: t("staff.password.mismatch") } : {})}
          />
          <Button type="submit" disabled={busy}>
            {t("staff.password.submit")}
          </Button>
        </form>
      </Card>
    </div>
  );
};
