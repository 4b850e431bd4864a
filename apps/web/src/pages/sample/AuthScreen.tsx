import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client.ts";
import type { DocumentList } from "../../api/types.ts";
import { useApi } from "../../api/use-api.ts";
import { Alert, Button, Checkbox, TextInput } from "../../ui/index.ts";
import { announceSessionChange, apiSend, type IssuedCode, messageOf } from "../center/account/account-api.ts";

type Mode = "sign-up" | "verify" | "sign-in";
type Failure = { field?: string; message: string };

/**
 * The app's first screen: create an account with the policy accepted (an unticked box, the real
 * registration API: the acceptance is recorded in the consent ledger on verification), or sign in.
 */
export const AuthScreen = () => {
  const { t, i18n } = useTranslation();
  const locale = i18n.language === "zh-CN" ? "zh-CN" : "en";
  const docs = useApi<DocumentList>("/api/v1/policy/documents");
  const [mode, setMode] = useState<Mode>("sign-up");
  const [contact, setContact] = useState("");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [accepted, setAccepted] = useState(false);
  const [code, setCode] = useState("");
  const [identifier, setIdentifier] = useState("");
  const [pending, setPending] = useState<IssuedCode | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Failure | null>(null);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (err) {
      const details = err instanceof ApiError ? (err.details as { field?: string } | undefined) : undefined;
      setError({
        ...(details?.field ? { field: details.field } : {}),
        message: messageOf(err, t("sampleApp.error")),
      });
    } finally {
      setBusy(false);
    }
  };

  const signUp = (event: FormEvent) => {
    event.preventDefault();
    if (!accepted) {
      setError({ field: "acceptPolicy", message: t("sampleApp.auth.mustAccept") });
      return;
    }
    if (docs.status !== "ok") return;
    void run(async () => {
      const issued = await apiSend<IssuedCode>("POST", "/api/v1/accounts/register", {
        contact,
        username,
        password,
        locale,
        policyVersion: docs.data.version,
        acceptPolicy: true,
      });
      setPending(issued);
      setMode("verify");
    });
  };

  const verify = (event: FormEvent) => {
    event.preventDefault();
    if (!pending) return;
    void run(async () => {
      await apiSend("POST", "/api/v1/accounts/register/verify", {
        verificationId: pending.verificationId,
        code: code.trim(),
        locale,
      });
      announceSessionChange();
    });
  };

  const signIn = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await apiSend("POST", "/api/v1/auth/login", { identifier, password, locale });
      announceSessionChange();
    });
  };

  const fieldError = (name: string) => (error?.field === name ? error.message : undefined);
  const formError = error && !error.field ? <Alert tone="error">{error.message}</Alert> : null;
  const switchTo = (next: Mode) => {
    setError(null);
    setMode(next);
  };

  if (mode === "verify" && pending)
    return (
      <form className="ui-stack" onSubmit={verify} noValidate aria-labelledby="sample-verify-title">
        <h3 id="sample-verify-title">{t("sampleApp.auth.verifyTitle")}</h3>
        <p>{t("sampleApp.auth.verifyLead", { to: pending.sentTo })}</p>
        {formError}
        <TextInput
          label={t("sampleApp.auth.code")}
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          maxLength={6}
          required
          value={code}
          onChange={(e) => setCode(e.target.value)}
        />
        <p className="ui-muted">
          {t("sampleApp.auth.devOutbox")}{" "}
          <a href="/console/outbox" target="_blank" rel="noopener">
            {t("sampleApp.auth.devOutboxLink")}
            <span className="ui-visually-hidden"> ({t("sampleApp.newTab")})</span>
          </a>
        </p>
        <div className="ui-row">
          <Button type="submit" disabled={busy || code.trim().length !== 6}>
            {t("sampleApp.auth.verify")}
          </Button>
          <Button variant="ghost" onClick={() => switchTo("sign-up")}>
            {t("sampleApp.auth.back")}
          </Button>
        </div>
      </form>
    );

  if (mode === "sign-in")
    return (
      <form className="ui-stack" onSubmit={signIn} noValidate aria-labelledby="sample-sign-in-title">
        <h3 id="sample-sign-in-title">{t("sampleApp.auth.signInTitle")}</h3>
        {formError}
        <TextInput
          label={t("sampleApp.auth.identifier")}
          name="identifier"
          autoComplete="username"
          required
          maxLength={320}
          value={identifier}
          onChange={(e) => setIdentifier(e.target.value)}
        />
        <TextInput
          label={t("sampleApp.auth.password")}
          name="password"
          type="password"
          autoComplete="current-password"
          required
          maxLength={128}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <div>
          <Button type="submit" disabled={busy}>
            {t("sampleApp.auth.signIn")}
          </Button>
        </div>
        <p className="ui-muted">
          {t("sampleApp.auth.noAccount")}{" "}
          <Button variant="ghost" size="sm" onClick={() => switchTo("sign-up")}>
            {t("sampleApp.auth.toSignUp")}
          </Button>
        </p>
      </form>
    );

  return (
    <form className="ui-stack" onSubmit={signUp} noValidate aria-labelledby="sample-sign-up-title">
      <h3 id="sample-sign-up-title">{t("sampleApp.auth.signUpTitle")}</h3>
      <p className="ui-muted">{t("sampleApp.auth.signUpLead")}</p>
      {formError}
      <TextInput
        label={t("sampleApp.auth.contact")}
        hint={t("sampleApp.auth.contactHint")}
        name="contact"
        autoComplete="username"
        required
        maxLength={320}
        value={contact}
        onChange={(e) => setContact(e.target.value)}
        error={fieldError("contact")}
      />
      <TextInput
        label={t("sampleApp.auth.username")}
        hint={t("sampleApp.auth.usernameHint")}
        name="username"
        autoComplete="nickname"
        required
        maxLength={32}
        value={username}
        onChange={(e) => setUsername(e.target.value)}
        error={fieldError("username")}
      />
      <TextInput
        label={t("sampleApp.auth.password")}
        hint={t("sampleApp.auth.passwordHint")}
        name="password"
        type="password"
        autoComplete="new-password"
        required
        maxLength={128}
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={fieldError("password")}
      />
      <Checkbox
        name="acceptPolicy"
        checked={accepted}
        onChange={(e) => setAccepted(e.target.checked)}
        error={fieldError("acceptPolicy") ?? fieldError("policyVersion")}
        label={
          <>
            {t("sampleApp.auth.accept", { version: docs.status === "ok" ? docs.data.version : "" })}{" "}
            <a href="/center/policy/privacy-policy" target="_blank" rel="noopener">
              {t("sampleApp.auth.readPolicy")}
              <span className="ui-visually-hidden"> ({t("sampleApp.newTab")})</span>
            </a>
          </>
        }
      />
      <p className="ui-muted" data-testid="sample-policy-scope">
        {t("sampleApp.auth.scope")}
      </p>
      <div>
        <Button type="submit" disabled={busy || docs.status !== "ok"}>
          {t("sampleApp.auth.signUp")}
        </Button>
      </div>
      <p className="ui-muted">
        {t("sampleApp.auth.haveAccount")}{" "}
        <Button variant="ghost" size="sm" onClick={() => switchTo("sign-in")}>
          {t("sampleApp.auth.toSignIn")}
        </Button>
      </p>
    </form>
  );
};
