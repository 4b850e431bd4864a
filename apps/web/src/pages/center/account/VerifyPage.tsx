import { type FormEvent, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation, useNavigate } from "react-router-dom";
import { Alert, Button, Card, PageHeader } from "../../../ui/index.ts";
import {
  announceSessionChange,
  apiSend,
  clearPending,
  type IssuedCode,
  loadPending,
  messageOf,
  savePending,
} from "./account-api.ts";
import { CodeInput, useFormRun, useLocale, verifyRegistration } from "./account-forms.tsx";

export const VerifyPage = () => {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const [pending, setPending] = useState<IssuedCode | undefined>(
    () => (location.state as IssuedCode | null) ?? loadPending(),
  );
  const [code, setCode] = useState("");
  const [notice, setNotice] = useState<string | null>(null);
  const { busy, run, setError, anyError } = useFormRun(t("account.error"));
  const [wait, setWait] = useState(pending?.resendAfterSeconds ?? 0);

  useEffect(() => {
    if (wait <= 0) return;
    const timer = window.setTimeout(() => setWait((w) => w - 1), 1000);
    return () => window.clearTimeout(timer);
  }, [wait]);

  const locale = useLocale();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!pending) return;
    void run(async () => {
      await verifyRegistration(pending, code, locale);
      clearPending();
      announceSessionChange();
      navigate("/center/account", { state: { welcome: true } });
    });
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
      setError({ message: messageOf(err, t("account.error")) });
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
            {anyError}
            {notice ? <Alert tone="success">{notice}</Alert> : null}
            <CodeInput
              label={t("account.verify.code")}
              hint={t("account.verify.codeHint")}
              pattern="[0-9]{6}"
              value={code}
              onValue={setCode}
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
