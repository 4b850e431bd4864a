import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Alert, Button, Card, ErrorState, PageHeader, TextInput } from "../../ui/index.ts";
import { StaffArea } from "./StaffArea.tsx";
import { staffPost } from "./staff-api.ts";
import { useStaffForm } from "./use-staff-form.ts";

/** /console/password: change your console password (ACC-5). */
export const StaffPasswordPage = () => <StaffArea>{() => <StaffPasswordForm forced={false} />}</StaffArea>;

/**
 * The password form. `forced`: shown by StaffArea instead of any page while the staff member
 * still has the one-time password they were given; `onDone` then reloads the console.
 */
export const StaffPasswordForm = ({ forced, onDone }: { forced: boolean; onDone?: () => void }) => {
  const { t } = useTranslation();
  const form = useStaffForm({ current: "", next: "", confirm: "" });
  const [mismatch, setMismatch] = useState(false);

  const submit = form.submit(async (v) => {
    setMismatch(v.next !== v.confirm);
    if (v.next !== v.confirm) return null;
    await staffPost("/api/v1/staff/me/password", { current: v.current, next: v.next });
    form.setValues({ current: "", next: "", confirm: "" });
    onDone?.();
    return t("staff.password.changed");
  });

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
      {form.done ? <Alert tone="success">{form.done}</Alert> : null}
      {form.error ? <ErrorState error={form.error} /> : null}
      <Card title={t("staff.password.formTitle")}>
        <form className="ui-stack" onSubmit={submit} noValidate>
          <TextInput
            label={t("staff.password.current")}
            type="password"
            autoComplete="current-password"
            required
            maxLength={200}
            {...form.field("current")}
          />
          <TextInput
            label={t("staff.password.next")}
            hint={t("staff.password.nextHint")}
            type="password"
            autoComplete="new-password"
            required
            minLength={12}
            maxLength={200}
            {...form.field("next")}
          />
          <TextInput
            label={t("staff.password.confirm")}
            type="password"
            autoComplete="new-password"
            required
            maxLength={200}
            {...form.field("confirm")}
            {...(mismatch ? { error: t("staff.password.mismatch") } : {})}
          />
          <Button type="submit" disabled={form.busy}>
            {t("staff.password.submit")}
          </Button>
        </form>
      </Card>
    </div>
  );
};
