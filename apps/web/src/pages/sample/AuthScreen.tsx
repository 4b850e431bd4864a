import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { Button } from "../../ui/index.ts";
import { announceSessionChange, type IssuedCode } from "../center/account/account-api.ts";
import {
  CodeInput,
  PolicyCheckbox,
  SignInFields,
  SignUpFields,
  signInWithPassword,
  useFormRun,
  useLocale,
  useSignUp,
  verifyRegistration,
} from "../center/account/account-forms.tsx";

type Mode = "sign-up" | "verify" | "sign-in";

/**
 * The app's first screen: create an account with the policy accepted (an unticked box, the real
 * registration API: the acceptance is recorded in the consent ledger on verification), or sign in.
 */
export const AuthScreen = () => {
  const { t } = useTranslation();
  const locale = useLocale();
  const [mode, setMode] = useState<Mode>("sign-up");
  const [code, setCode] = useState("");
  const [identifier, setIdentifier] = useState("");
  const [pending, setPending] = useState<IssuedCode | null>(null);
  const form = useFormRun(t("sampleApp.error"));
  const { busy, run, fieldError, formError } = form;
  const signUp = useSignUp(form, {
    mustAccept: t("sampleApp.auth.mustAccept"),
    onIssued: (issued) => {
      setPending(issued);
      setMode("verify");
    },
  });
  // One password for both forms, as typed.
  const { password } = signUp.values;
  const setPassword = (next: string) => signUp.setValues((values) => ({ ...values, password: next }));

  const verify = (event: FormEvent) => {
    event.preventDefault();
    if (!pending) return;
    void run(async () => {
      await verifyRegistration(pending, code, locale);
      announceSessionChange();
    });
  };

  const signIn = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await signInWithPassword(identifier, password, locale);
      announceSessionChange();
    });
  };

  const switchTo = (next: Mode) => {
    form.setError(null);
    setMode(next);
  };

  if (mode === "verify" && pending)
    return (
      <form className="ui-stack" onSubmit={verify} noValidate aria-labelledby="sample-verify-title">
        <h3 id="sample-verify-title">{t("sampleApp.auth.verifyTitle")}</h3>
        <p>{t("sampleApp.auth.verifyLead", { to: pending.sentTo })}</p>
        {formError}
        <CodeInput label={t("sampleApp.auth.code")} value={code} onValue={setCode} />
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
        <SignInFields
          keys="sampleApp.auth"
          identifier={identifier}
          password={password}
          onIdentifier={setIdentifier}
          onPassword={setPassword}
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
    <form className="ui-stack" onSubmit={signUp.submit} noValidate aria-labelledby="sample-sign-up-title">
      <h3 id="sample-sign-up-title">{t("sampleApp.auth.signUpTitle")}</h3>
      <p className="ui-muted">{t("sampleApp.auth.signUpLead")}</p>
      {formError}
      <SignUpFields
        keys="sampleApp.auth"
        values={signUp.values}
        onChange={signUp.setValues}
        fieldError={fieldError}
      />
      <PolicyCheckbox
        checked={signUp.accepted}
        onChange={signUp.setAccepted}
        fieldError={fieldError}
        text={t("sampleApp.auth.accept", { version: signUp.version })}
        link={
          <a href="/center/policy/privacy-policy" target="_blank" rel="noopener">
            {t("sampleApp.auth.readPolicy")}
            <span className="ui-visually-hidden"> ({t("sampleApp.newTab")})</span>
          </a>
        }
      />
      <p className="ui-muted" data-testid="sample-policy-scope">
        {t("sampleApp.auth.scope")}
      </p>
      <div>
        <Button type="submit" disabled={busy || signUp.docs.status !== "ok"}>
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
