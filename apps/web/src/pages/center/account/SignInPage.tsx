import { type FormEvent, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { apiGet } from "../../../api/client.ts";
import { Alert, Button, buttonClass, Card, PageHeader, Tabs, TextInput } from "../../../ui/index.ts";
import { OidcMessage, OidcPolicyNotice, oidcStartHref } from "../oidc.tsx";
import {
  announceSessionChange,
  apiSend,
  type IssuedCode,
  type OidcProvider,
  type OidcProviderList as ProviderList,
  providerName,
} from "./account-api.ts";
import { CodeInput, SignInFields, signInWithPassword, useFormRun, useLocale } from "./account-forms.tsx";

const PasswordForm = ({ onDone }: { onDone: () => void }) => {
  const { t } = useTranslation();
  const locale = useLocale();
  const [identifier, setIdentifier] = useState("");
  const [password, setPassword] = useState("");
  const { busy, run, anyError } = useFormRun(t("account.error"));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await signInWithPassword(identifier, password, locale);
      onDone();
    });
  };
  return (
    <form className="ui-stack" onSubmit={submit} noValidate>
      {anyError}
      <SignInFields
        keys="account.signIn"
        identifier={identifier}
        password={password}
        onIdentifier={setIdentifier}
        onPassword={setPassword}
      />
      <div>
        <Button type="submit" disabled={busy || !identifier || !password}>
          {t("account.signIn.submit")}
        </Button>
      </div>
    </form>
  );
};

/** Identifier → code (→ new password for recovery). */
const CodeForm = ({ mode, onDone }: { mode: "login" | "recover"; onDone: () => void }) => {
  const { t } = useTranslation();
  const locale = useLocale();
  const [identifier, setIdentifier] = useState("");
  const [issued, setIssued] = useState<IssuedCode | null>(null);
  const [code, setCode] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [done, setDone] = useState(false);
  const { busy, run, anyError } = useFormRun(t("account.error"));

  const send = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const path = mode === "login" ? "/api/v1/auth/login/code" : "/api/v1/accounts/recover";
      setIssued(await apiSend<IssuedCode>("POST", path, { identifier, locale }));
    });
  };

  const verify = (event: FormEvent) => {
    event.preventDefault();
    if (!issued) return;
    void run(async () => {
      if (mode === "login") {
        await apiSend("POST", "/api/v1/auth/login/code/verify", {
          verificationId: issued.verificationId,
          code: code.trim(),
          locale,
        });
        onDone();
      } else {
        await apiSend("POST", "/api/v1/accounts/recover/complete", {
          verificationId: issued.verificationId,
          code: code.trim(),
          newPassword,
          locale,
        });
        setDone(true);
      }
    });
  };

  if (done) return <Alert tone="success">{t("account.recover.done")}</Alert>;
  return issued ? (
    <form className="ui-stack" onSubmit={verify} noValidate>
      {anyError}
      <Alert tone="info">{t("account.signIn.codeSent")}</Alert>
      <CodeInput
        label={t("account.verify.code")}
        hint={t("account.verify.codeHint")}
        value={code}
        onValue={setCode}
      />
      {mode === "recover" ? (
        <TextInput
          label={t("account.recover.newPassword")}
          hint={t("account.signUp.passwordHint")}
          name="newPassword"
          type="password"
          autoComplete="new-password"
          maxLength={128}
          required
          value={newPassword}
          onChange={(e) => setNewPassword(e.target.value)}
        />
      ) : null}
      <div>
        <Button type="submit" disabled={busy || code.trim().length !== 6}>
          {mode === "login" ? t("account.signIn.submit") : t("account.recover.submit")}
        </Button>
      </div>
    </form>
  ) : (
    <form className="ui-stack" onSubmit={send} noValidate>
      {anyError}
      <TextInput
        label={t("account.signIn.identifier")}
        name={mode === "login" ? "code-identifier" : "recover-identifier"}
        autoComplete="username"
        maxLength={320}
        required
        value={identifier}
        onChange={(e) => setIdentifier(e.target.value)}
      />
      <div>
        <Button type="submit" disabled={busy || !identifier}>
          {t("account.signIn.sendCode")}
        </Button>
      </div>
    </form>
  );
};

const Providers = () => {
  const { t, i18n } = useTranslation();
  const [list, setList] = useState<ProviderList | null>(null);
  useEffect(() => {
    // The section is hidden when third-party sign-in is not available (404) or has no providers.
    apiGet<ProviderList>("/api/v1/auth/oidc/providers")
      .then(setList)
      .catch(() => setList(null));
  }, []);
  if (!list || list.providers.length === 0) return null;
  const nameOf = (p: OidcProvider) => providerName(p, i18n.language);
  return (
    <section aria-labelledby="providers-title" className="ui-stack">
      <h2 className="ui-section-title" id="providers-title">
        {t("account.signIn.providersTitle")}
      </h2>
      <div className="ui-row">
        {list.providers.map((p) => (
          <a
            key={p.id}
            className={buttonClass("secondary")}
            href={oidcStartHref(p.startUrl, { policyVersion: list.policyVersion, lang: i18n.language })}
          >
            {t("account.signIn.with", { provider: nameOf(p) })}
          </a>
        ))}
      </div>
      <OidcPolicyNotice policyVersion={list.policyVersion} />
    </section>
  );
};

export const SignInPage = () => {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const done = () => {
    announceSessionChange();
    navigate("/center/account");
  };
  return (
    <div className="ui-stack ui-stack--lg">
      <PageHeader title={t("account.signIn.title")} lead={t("account.signIn.lead")} />
      <OidcMessage />
      <Card>
        <Tabs
          label={t("account.signIn.methods")}
          tabs={[
            {
              id: "password",
              label: t("account.signIn.passwordTab"),
              content: <PasswordForm onDone={done} />,
            },
            {
              id: "code",
              label: t("account.signIn.codeTab"),
              content: <CodeForm mode="login" onDone={done} />,
            },
            {
              id: "recover",
              label: t("account.signIn.recoverTab"),
              content: <CodeForm mode="recover" onDone={done} />,
            },
          ]}
        />
      </Card>
      <Providers />
      <p className="ui-muted">
        {t("account.signIn.noAccount")} <Link to="/center/account/sign-up">{t("account.signUp.title")}</Link>
      </p>
    </div>
  );
};
