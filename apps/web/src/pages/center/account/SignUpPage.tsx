import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { ApiError } from "../../../api/client.ts";
import type { DocumentList } from "../../../api/types.ts";
import { useApi } from "../../../api/use-api.ts";
import { Alert, Button, Card, Checkbox, PageHeader, TextInput } from "../../../ui/index.ts";
import { apiSend, type IssuedCode, messageOf, savePending } from "./account-api.ts";
import { passwordHints } from "./password-hints.ts";

export const SignUpPage = () => {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const docs = useApi<DocumentList>("/api/v1/policy/documents");
  const [contact, setContact] = useState("");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [accepted, setAccepted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ field?: string; message: string } | null>(null);
  const hints = passwordHints(password, username);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!accepted) {
      setError({ field: "acceptPolicy", message: t("account.signUp.mustAccept") });
      return;
    }
    if (docs.status !== "ok") return;
    setBusy(true);
    setError(null);
    try {
      const issued = await apiSend<IssuedCode>("POST", "/api/v1/accounts/register", {
        contact,
        username,
        password,
        locale: i18n.language === "zh-CN" ? "zh-CN" : "en",
        policyVersion: docs.data.version,
        acceptPolicy: true,
      });
      savePending({ ...issued, purpose: "register" });
      navigate("/center/account/verify", { state: issued });
    } catch (err) {
      const details = err instanceof ApiError ? (err.details as { field?: string } | undefined) : undefined;
      setError({
        ...(details?.field ? { field: details.field } : {}),
        message: messageOf(err, t("account.error")),
      });
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (name: string) => (error?.field === name ? error.message : undefined);

  return (
    <div className="ui-stack ui-stack--lg">
      <PageHeader title={t("account.signUp.title")} lead={t("account.signUp.lead")} />
      <Card>
        <form className="ui-stack" onSubmit={submit} noValidate>
          {error && !error.field ? <Alert tone="error">{error.message}</Alert> : null}
          <TextInput
            label={t("account.signUp.contact")}
            hint={t("account.signUp.contactHint")}
            name="contact"
            autoComplete="username"
            required
            maxLength={320}
            value={contact}
            onChange={(e) => setContact(e.target.value)}
            error={fieldError("contact")}
          />
          <TextInput
            label={t("account.signUp.username")}
            hint={t("account.signUp.usernameHint")}
            name="username"
            autoComplete="nickname"
            required
            maxLength={32}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            error={fieldError("username")}
          />
          <TextInput
            label={t("account.signUp.password")}
            hint={t("account.signUp.passwordHint")}
            name="password"
            type="password"
            autoComplete="new-password"
            required
            maxLength={128}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={fieldError("password")}
          />
          <ul className="ui-muted" aria-label={t("account.signUp.strength")} data-testid="password-hints">
            {hints.map((h) => (
              <li key={h.id}>
                {h.ok ? "✓ " : "○ "}
                {t(`account.signUp.hint.${h.id}`)}
                <span className="ui-visually-hidden">
                  {" "}
                  ({h.ok ? t("account.signUp.hintMet") : t("account.signUp.hintNotMet")})
                </span>
              </li>
            ))}
          </ul>
          <Checkbox
            name="acceptPolicy"
            checked={accepted}
            onChange={(e) => setAccepted(e.target.checked)}
            error={fieldError("acceptPolicy") ?? fieldError("policyVersion")}
            label={
              <>
                {t("account.signUp.accept", { version: docs.status === "ok" ? docs.data.version : "" })}{" "}
                <Link to="/center/policy/privacy-policy">{t("account.signUp.readPolicy")}</Link>
              </>
            }
          />
          <p className="ui-muted" data-testid="policy-scope">
            {t("consents.signUpScope")}
          </p>
          <div>
            <Button type="submit" disabled={busy || docs.status !== "ok"}>
              {t("account.signUp.submit")}
            </Button>
          </div>
          <p className="ui-muted">
            {t("account.signUp.haveAccount")}{" "}
            <Link to="/center/account/sign-in">{t("account.signIn.title")}</Link>
          </p>
        </form>
      </Card>
    </div>
  );
};
