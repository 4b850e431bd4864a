import { type FormEvent, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation, useNavigate } from "react-router-dom";
import { Alert, Button, Card, PageHeader, TextInput } from "../../../ui/index.ts";
import {
  announceSessionChange,
  apiSend,
  clearPending,
  type IssuedCode,
  loadPending,
  messageOf,
  savePending,
} from "./account-api.ts";

export const VerifyPage = () => {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const [pending, setPending] = useState<IssuedCode | undefined>(
    () => (location.state as IssuedCode | null) ?? loadPending(),
  );
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [wait, setWait] = useState(pending?.resendAfterSeconds ?? 0);

  useEffect(() => {
    if (wait <= 0) return;
    const timer = window.setTimeout(() => setWait((w) => w - 1), 1000);
    return () => window.clearTimeout(timer);
  }, [wait]);

  const locale = i18n.language === "zh-CN" ? "zh-CN" : "en";

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!pending) return;
    setBusy(true);
    setError(null);
    try {
      await apiSend("POST", "/api/v1/accounts/register/verify", {
        verificationId: pending.verificationId,
        code: code.trim(),
        locale,
      });
      clearPending();
      announceSessionChange();
      navigate("/center/account", { state: { welcome: true } });
    } catch (err) {
      setError(messageOf(err, t("account.error")));
    } finally {
      setBusy(false);
    }
  };

  const resend = async () => {
    if (!pending) return;
    setError(null);
    try {
      const next = await apiSend<IssuedCode>("POST", "/api/v1/auth/codes/resend", {
        verificationId: pending.verificationId,
        locale,
      });
      setPending(next);
      savePending({ ...next, purpose: "register" });
      setWait(next.resendAfterSeconds);
      setNotice(t("account.verify.resent", { to: next.sentTo }));
    } catch (err) {
      setError(messageOf(err, t("account.error")));
    }
  };

  return (
    <div className="ui-stack ui-stack--lg">
      <PageHeader
        title={t("account.verify.title")}
        lead={pending ? t("account.verify.lead", { to: pending.sentTo }) : undefined}
      />
      {!pending ? (
        <Alert tone="info" title={t("account.verify.nothingTitle")}>
          <p>
            <Link to="/center/account/sign-up">{t("account.signUp.title")}</Link>
          </p>
        </Alert>
      ) : (
        <Card>
          <form className="ui-stack" onSubmit={submit} noValidate>
            {error ? <Alert tone="error">{error}</Alert> : null}
            {notice ? <Alert tone="success">{notice}</Alert> : null}
            <TextInput
              label={t("account.verify.code")}
              hint={t("account.verify.codeHint")}
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]{6}"
              maxLength={6}
              required
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
            <div className="ui-row">
              <Button type="submit" disabled={busy || code.trim().length !== 6}>
                {t("account.verify.submit")}
              </Button>
              <Button variant="secondary" onClick={resend} disabled={wait > 0}>
                {wait > 0 ? t("account.verify.resendIn", { seconds: wait }) : t("account.verify.resend")}
              </Button>
            </div>
          </form>
        </Card>
      )}
    </div>
  );
};
