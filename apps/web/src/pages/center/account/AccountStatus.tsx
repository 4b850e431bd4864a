import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { buttonClass } from "../../../ui/Button.tsx";
import { announceSessionChange, apiSend, useMe } from "./account-api.ts";

/** On the dark header: the header's own text colour (set through the CSSOM, which the CSP allows). */
const onHeader = { color: "var(--c-on-header)", borderColor: "currentColor", background: "transparent" };

/** The header's signed-in state: the username and a sign-out button, or a sign-in link. */
export const AccountStatus = () => {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { state } = useMe();
  if (state.status === "loading") return null;
  if (state.status === "signed-out")
    return (
      <Link className={buttonClass("ghost", "sm")} style={onHeader} to="/center/account/sign-in">
        {t("account.signIn.title")}
      </Link>
    );
  const signOut = async () => {
    try {
      await apiSend("POST", "/api/v1/auth/logout");
    } finally {
      announceSessionChange();
      navigate("/center/account/sign-in");
    }
  };
  return (
    <span className="ui-row" data-testid="account-status">
      <Link to="/center/account" style={onHeader}>
        {state.me.username ?? t("account.security.title")}
      </Link>
      <button type="button" className={buttonClass("ghost", "sm")} style={onHeader} onClick={signOut}>
        {t("account.signOut")}
      </button>
    </span>
  );
};
