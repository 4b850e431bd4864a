import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { Alert, Button, Card, ErrorState, PageHeader, TextInput } from "../../ui/index.ts";
import { staffPost } from "./staff-api.ts";
import { useStaffForm } from "./use-staff-form.ts";

type Step = { kind: "password" } | { kind: "enrol"; secret: string; uri: string } | { kind: "code" };

/** /console/sign-in: password, then TOTP enrolment (first time) or the current code (ACC-5). */
export const StaffSignInPage = () => {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [step, setStep] = useState<Step>({ kind: "password" });
  const form = useStaffForm({ email: "", password: "", code: "" });

  const submitPassword = form.submit(async (v) => {
    const r = await staffPost<{ next: "enrol" | "code"; secret?: string; otpauthUri?: string }>(
      "/api/v1/staff/auth/sign-in",
      { email: v.email, password: v.password },
    );
    form.setValues({ ...v, password: "" });
    setStep(
      r.next === "enrol"
        ? { kind: "enrol", secret: r.secret ?? "", uri: r.otpauthUri ?? "" }
        : { kind: "code" },
    );
  });

  const submitCode = form.submit(async (v) => {
    try {
      const r = await staffPost<{ role: string }>("/api/v1/staff/auth/mfa", { code: v.code.trim() });
      navigate(
        r.role === "admin" ? "/console/staff" : r.role === "auditor" ? "/console/audit" : "/console/grants",
      );
    } catch (e) {
      form.setValues({ ...v, code: "" });
      throw e;
    }
  });

  return (
    <div className="ui-stack">
      <PageHeader title={t("staff.signIn.title")} lead={t("staff.signIn.lead")} />
      {form.error ? <ErrorState error={form.error} /> : null}
      <Card>
        {step.kind === "password" ? (
          <form className="ui-stack" onSubmit={submitPassword}>
            <TextInput
              label={t("staff.signIn.email")}
              type="email"
              autoComplete="username"
              required
              maxLength={320}
              {...form.field("email")}
            />
            <TextInput
              label={t("staff.signIn.password")}
              type="password"
              autoComplete="current-password"
              required
              {...form.field("password")}
            />
            <Button type="submit" disabled={form.busy}>
              {t("staff.signIn.continue")}
            </Button>
          </form>
        ) : (
          <form className="ui-stack" onSubmit={submitCode}>
            {step.kind === "enrol" ? (
              <Alert tone="warning" title={t("staff.signIn.enrolTitle")}>
                <p>{t("staff.signIn.enrolLead")}</p>
                <p>
                  {t("staff.signIn.secret")} <code data-testid="totp-secret">{step.secret}</code>
                </p>
                <p className="ui-muted">
                  <a href={step.uri}>{t("staff.signIn.openApp")}</a>
                </p>
              </Alert>
            ) : (
              <p>{t("staff.signIn.codeLead")}</p>
            )}
            <TextInput
              label={t("staff.signIn.code")}
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]{6}"
              maxLength={6}
              required
              {...form.field("code")}
            />
            <Button type="submit" disabled={form.busy}>
              {t("staff.signIn.verify")}
            </Button>
          </form>
        )}
      </Card>
    </div>
  );
};
