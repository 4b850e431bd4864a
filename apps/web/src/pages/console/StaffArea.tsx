import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { useApi } from "../../api/use-api.ts";
import { Alert, Button, ButtonLink, ErrorState, LoadingState, Nav } from "../../ui/index.ts";
import { StaffPasswordForm } from "./StaffPasswordPage.tsx";
import { type Me, staffPost } from "./staff-api.ts";

/**
 * The signed-in part of the console: loads the staff member, shows the staff navigation (only the
 * sections their role opens) and hands `me` to the page. Signed out → a link to the sign-in page.
 */
export const StaffArea = ({ children }: { children: (me: Me) => ReactNode }) => {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const me = useApi<Me>("/api/v1/staff/me", {}, { withLang: false });
  if (me.status === "loading") return <LoadingState />;
  if (me.status === "error") {
    if (me.error.status === 401)
      return (
        <Alert tone="info" title={t("staff.signedOutTitle")}>
          <p>{t("staff.signedOut")}</p>
          <ButtonLink to="/console/sign-in" variant="primary">
            {t("staff.signIn.title")}
          </ButtonLink>
        </Alert>
      );
    return <ErrorState error={me.error} onRetry={me.reload} />;
  }
  // A one-time password is replaced before anything else (ACC-5): no navigation, only the form.
  const forced = me.data.staff.mustChangePassword;
  const ops = new Set(forced ? [] : me.data.operations);
  const items = [
    ...(ops.has("staff.read") || ops.has("staff.manage")
      ? [{ to: "/console/staff", label: t("staff.nav.members") }]
      : []),
    ...(ops.has("grant.read") || ops.has("grant.request")
      ? [{ to: "/console/grants", label: t("staff.nav.grants") }]
      : []),
    ...(ops.has("subject.read-masked") ? [{ to: "/console/subjects", label: t("staff.nav.subjects") }] : []),
    ...(ops.has("audit.read") ? [{ to: "/console/audit", label: t("staff.nav.audit") }] : []),
  ];
  const signOut = async () => {
    await staffPost("/api/v1/staff/auth/sign-out").catch(() => undefined);
    navigate("/console/sign-in");
  };
  return (
    <div className="ui-stack">
      <div className="ui-row">
        <Nav variant="sub" label={t("staff.nav.label")} items={items} />
        <span className="ui-muted" data-testid="staff-whoami">
          {t("staff.whoami", {
            name: me.data.staff.displayName,
            role: t(`staff.roles.${me.data.staff.role}`),
          })}
        </span>
        {forced ? null : (
          <ButtonLink to="/console/password" variant="ghost" size="sm">
            {t("staff.password.link")}
          </ButtonLink>
        )}
        <Button variant="ghost" size="sm" onClick={signOut}>
          {t("staff.signOut")}
        </Button>
      </div>
      {forced ? <StaffPasswordForm forced onDone={me.reload} /> : children(me.data)}
    </div>
  );
};
