import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { ApiError } from "../../api/client.ts";
import { Alert, Button, Card, ErrorState, PageHeader, TextInput } from "../../ui/index.ts";
import { staffPost } from "./staff-api.ts";

type Step = { kind: "password" } | { kind: "enrol"; secret: string; uri: string } | { kind: "code" };

/** /console/sign-in: password, then TOTP enrolment (first time) or the current code (ACC-5). */
export const StaffSignInPage = () => {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [step, setStep] = useState<Step>({ kind: "password" });
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const fail = (e: unknown) =>
    setError(
      e instanceof ApiError
        ? e
        : new ApiError({ status: 0, code: "unexpected", message: "unexpected", fromServer: false }),
    );

  const submitPassword = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await staffPost<{ next: "enrol" | "code"; secret?: string; otpauthUri?: string }>(
        "/api/v1/staff/auth/sign-in",
        { email, password },
      );
      setPassword("");
      setStep(
        r.next === "enrol"
          ? { kind: "enrol", secret: r.secret ?? "", uri: r.otpauthUri ?? "" }
          : { kind: "code" },
      );
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };

  const submitCode = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await staffPost<{ role: string }>("/api/v1/staff/auth/mfa", { code });
      navigate(
        r.role === "admin" ? "/console/staff" : r.role === "auditor" ? "/console/audit" : "/console/grants",
      );
    } catch (e) {
      fail(e);
      setCode("");
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="ui-stack">
      <PageHeader title={t("staff.signIn.title")} lead={t("staff.signIn.lead")} />
      {error ? <ErrorState error={error} /> : null}
      <Card>
        {step.kind === "password" ? (
          <form className="ui-stack" onSubmit={submitPassword}>
            <TextInput
              label={t("staff.signIn.email")}
              type="email"
              autoComplete="username"
              required
              maxLength={320}
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
            <TextInput
              label={t("staff.signIn.password")}
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <Button type="submit" disabled={busy}>
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
              value={code}
              onChange={(e) => setCode(e.target.value.trim())}
            />
            <Button type="submit" disabled={busy}>
              {t("staff.signIn.verify")}
            </Button>
          </form>
        )}
      </Card>
    </div>
  );
};
