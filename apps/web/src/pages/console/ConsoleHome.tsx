import { useTranslation } from "react-i18next";
import type { PersonalInformationList } from "../../api/types.ts";
import { useApi } from "../../api/use-api.ts";
import { isDeviceOnly } from "../../lib/filters.ts";
import { Alert, BarChart, ButtonLink, Card, ErrorState, LoadingState, PageHeader } from "../../ui/index.ts";

export const ConsoleHome = () => {
  const { t } = useTranslation();
  const list = useApi<PersonalInformationList>("/api/v1/policy/personal-information");
  const sections = [
    { key: "outbox", title: t("nav.outbox"), to: "/console/outbox" },
    { key: "design", title: t("nav.design"), to: "/console/design" },
    { key: "policy", title: t("docs.privacy-policy"), to: "/center/policy/privacy-policy" },
  ];
  return (
    <div className="ui-stack ui-stack--lg">
      <PageHeader title={t("console.title")} lead={t("console.lead")} />
      <Alert tone="info">
        <p data-testid="console-signin-note">{t("console.signInNote")}</p>
        <ButtonLink to="/console/sign-in" size="sm">
          {t("staff.signIn.title")}
        </ButtonLink>
      </Alert>
      <section aria-labelledby="console-sections">
        <h2 className="ui-section-title" id="console-sections">
          {t("console.sectionsTitle")}
        </h2>
        <div className="ui-grid">
          {sections.map((s) => (
            <Card
              key={s.key}
              title={s.title}
              footer={
                <ButtonLink to={s.to} size="sm">
                  {t("console.open")}
                  <span className="ui-visually-hidden"> · {s.title}</span>
                </ButtonLink>
              }
            >
              <p className="ui-muted">{t(`console.sections.${s.key}`)}</p>
            </Card>
          ))}
          <Card
            title={t("shell.apiDocs")}
            footer={
              <a className="ui-button ui-button--secondary ui-button--sm" href="/docs">
                {t("console.open")}
                <span className="ui-visually-hidden"> · {t("shell.apiDocs")}</span>
              </a>
            }
          >
            <p className="ui-muted">{t("console.sections.api")}</p>
          </Card>
        </div>
      </section>
      <section aria-labelledby="console-overview">
        <h2 className="ui-section-title" id="console-overview">
          {t("console.overviewTitle")}
        </h2>
        <Card>
          {list.status === "loading" ? <LoadingState /> : null}
          {list.status === "error" ? <ErrorState error={list.error} onRetry={list.reload} /> : null}
          {list.status === "ok" ? (
            <BarChart
              title={t("console.overviewTitle")}
              desc={t("console.overviewDesc")}
              data={[
                { label: t("pi.general"), value: list.data.categories.filter((c) => !c.sensitive).length },
                { label: t("pi.sensitive"), value: list.data.categories.filter((c) => c.sensitive).length },
                { label: t("pi.deviceOnlyShort"), value: list.data.categories.filter(isDeviceOnly).length },
                { label: t("pi.children"), value: list.data.categories.filter((c) => c.children).length },
              ]}
            />
          ) : null}
        </Card>
      </section>
    </div>
  );
};
