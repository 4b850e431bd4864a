import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { Button, Card, PageHeader } from "../../../ui/index.ts";
import { savePending } from "./account-api.ts";
import { PolicyCheckbox, SignUpFields, useFormRun, useSignUp } from "./account-forms.tsx";
import { passwordHints } from "./password-hints.ts";

export const SignUpPage = () => {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const form = useFormRun(t("account.error"));
  const { fieldError } = form;
  const signUp = useSignUp(form, {
    mustAccept: t("account.signUp.mustAccept"),
    onIssued: (issued) => {
      savePending({ ...issued, purpose: "register" });
      navigate("/center/account/verify", { state: issued });
    },
  });
  const hints = passwordHints(signUp.values.password, signUp.values.username);

  return (
    <div className="ui-stack ui-stack--lg">
      <PageHeader title={t("account.signUp.title")} lead={t("account.signUp.lead")} />
      <Card>
        <form className="ui-stack" onSubmit={signUp.submit} noValidate>
          {form.formError}
          <SignUpFields
            keys="account.signUp"
            values={signUp.values}
            onChange={signUp.setValues}
            fieldError={fieldError}
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
          <PolicyCheckbox
            checked={signUp.accepted}
            onChange={signUp.setAccepted}
            fieldError={fieldError}
            text={t("account.signUp.accept", { version: signUp.version })}
            link={<Link to="/center/policy/privacy-policy">{t("account.signUp.readPolicy")}</Link>}
          />
          <p className="ui-muted" data-testid="policy-scope">
            {t("consents.signUpScope")}
          </p>
          <div>
            <Button type="submit" disabled={form.busy || signUp.docs.status !== "ok"}>
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
