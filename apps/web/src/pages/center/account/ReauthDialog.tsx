import { type FormEvent, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { apiGet } from "../../../api/client.ts";
import { Alert, Button, buttonClass, Dialog, TextInput } from "../../../ui/index.ts";
import { oidcStartHref } from "../oidc.tsx";
import {
  apiSend,
  type IssuedCode,
  type Me,
  type OidcProviderList as ProviderList,
  providerName,
} from "./account-api.ts";
import { useFormRun } from "./account-forms.tsx";

/**
 * "Confirm it is you" (ACC-4): password, a code to a contact the person gave, or a sign-in again
 * at a linked provider. Only the methods the account has are offered (RR-2: never asks for
 * information the person never gave).
 */
export const ReauthDialog = ({
  open,
  me,
  returnTo,
  onClose,
  onVerified,
}: {
  open: boolean;
  me: Me;
  returnTo: string;
  onClose: () => void;
  onVerified: () => void;
}) => {
  const { t, i18n } = useTranslation();
  const [password, setPassword] = useState("");
  const [issued, setIssued] = useState<IssuedCode | null>(null);
  const [code, setCode] = useState("");
  const { busy, run, anyError } = useFormRun(t("account.error"));
  const [providers, setProviders] = useState<ProviderList["providers"]>([]);
  const methods = new Set(me.reauthMethods);
  const contactOf = (kind: "email" | "phone") => me.contacts.find((c) => c.kind === kind)?.masked ?? "";

  useEffect(() => {
    if (!open || me.providers.length === 0) return;
    apiGet<ProviderList>("/api/v1/auth/oidc/providers")
      .then((list) =>
        setProviders(list.providers.filter((p) => me.providers.some((m) => m.provider === p.id))),
      )
      .catch(() => setProviders([]));
  }, [open, me.providers]);

  const done = () => {
    setPassword("");
    setCode("");
    setIssued(null);
    onVerified();
  };

  const withPassword = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await apiSend("POST", "/api/v1/me/reauth", { password, locale: i18n.language });
      done();
    });
  };

  const sendCode = (channel: "email" | "sms") =>
    run(async () => {
      setIssued(
        await apiSend<IssuedCode>("POST", "/api/v1/me/reauth/code", { channel, locale: i18n.language }),
      );
    });

  const withCode = (event: FormEvent) => {
    event.preventDefault();
    if (!issued) return;
    void run(async () => {
      await apiSend("POST", "/api/v1/me/reauth", {
        verificationId: issued.verificationId,
        code: code.trim(),
      });
      done();
    });
  };

  const nameOf = (p: ProviderList["providers"][number]) => providerName(p, i18n.language);

  return (
    <Dialog open={open} onClose={onClose} title={t("account.reauth.title")}>
      <div className="ui-stack" data-testid="reauth-dialog">
        <p>{t("account.reauth.lead")}</p>
        {anyError}
        {methods.has("password") ? (
          <form className="ui-stack" onSubmit={withPassword}>
            <TextInput
              label={t("account.reauth.password")}
              type="password"
              autoComplete="current-password"
              required
              maxLength={200}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <div>
              <Button type="submit" disabled={busy}>
                {t("account.reauth.withPassword")}
              </Button>
            </div>
          </form>
        ) : null}
        {methods.has("email-code") || methods.has("sms-code") ? (
          <div className="ui-stack">
            <div className="ui-row">
              {methods.has("email-code") ? (
                <Button variant="secondary" disabled={busy} onClick={() => sendCode("email")}>
                  {t("account.reauth.sendTo", { contact: contactOf("email") })}
                </Button>
              ) : null}
              {methods.has("sms-code") ? (
                <Button variant="secondary" disabled={busy} onClick={() => sendCode("sms")}>
                  {t("account.reauth.sendTo", { contact: contactOf("phone") })}
                </Button>
              ) : null}
            </div>
            {issued ? (
              <form className="ui-stack" onSubmit={withCode}>
                <Alert tone="info">{t("account.reauth.sent", { contact: issued.sentTo })}</Alert>
                <TextInput
                  label={t("account.reauth.code")}
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  pattern="\d{6}"
                  required
                  maxLength={6}
                  value={code}
                  onChange={(e) => setCode(e.target.value)}
                />
                <div>
                  <Button type="submit" disabled={busy}>
                    {t("account.reauth.withCode")}
                  </Button>
                </div>
              </form>
            ) : null}
          </div>
        ) : null}
        {providers.length > 0 ? (
          <div className="ui-row">
            {providers.map((p) => (
              <a
                key={p.id}
                className={buttonClass("secondary")}
                href={oidcStartHref(p.startUrl, { mode: "reauth", returnTo, lang: i18n.language })}
              >
                {t("account.reauth.withProvider", { provider: nameOf(p) })}
              </a>
            ))}
          </div>
        ) : null}
      </div>
    </Dialog>
  );
};
