import { useTranslation } from "react-i18next";
import { Outlet } from "react-router-dom";
import { Nav } from "../../ui/index.ts";

/** The staff console: its own section navigation inside the shared shell. */
export const ConsoleLayout = () => {
  const { t } = useTranslation();
  return (
    <div>
      <Nav
        variant="sub"
        label={t("nav.consoleSections")}
        items={[
          { to: "/console", label: t("nav.dashboard"), end: true },
          { to: "/console/outbox", label: t("nav.outbox") },
          { to: "/console/design", label: t("nav.design") },
          { to: "/console/sdks", label: t("sdks.nav") },
          { to: "/console/consent-report", label: t("consentReport.nav") },
          { to: "/console/decision-report", label: t("decisionReport.nav") },
        ]}
      />
      <Outlet />
    </div>
  );
};
