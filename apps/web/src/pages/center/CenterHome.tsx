import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import type { DocumentList } from "../../api/types.ts";
import { useApi } from "../../api/use-api.ts";
import {
  Alert,
  Badge,
  ButtonLink,
  buttonClass,
  Card,
  ErrorState,
  LoadingState,
  useDocumentTitle,
} from "../../ui/index.ts";
import { SampleAppCard } from "../sample/SampleAppCard.tsx";
import { ConsentsHomeCard } from "./ConsentsPage.tsx";
import { PermissionsCard } from "./PermissionsPage.tsx";
import { SettingsCard } from "./SettingsPage.tsx";
import { SubscriptionsCard } from "./SubscriptionsPage.tsx";

const icon = (d: string) => (
  <span className="ui-feature-icon">
    <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
        strokeLinecap="round"
        strokeLinejoin="round"
        d={d}
      />
    </svg>
  </span>
);

const PROTECTIONS: { key: string; icon: ReactNode }[] = [
  { key: "purpose", icon: icon("M12 3 4 6v6c0 4.5 3.4 8.3 8 9 4.6-.7 8-4.5 8-9V6l-8-3zm-3 9 2 2 4-4") },
  { key: "consent", icon: icon("M5 12l4 4L19 6") },
  {
    key: "sensitive",
    icon: icon(
      "M12 9v4m0 4h.01M10.3 3.9 2.4 18a2 2 0 0 0 1.7 3h15.8a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z",
    ),
  },
  { key: "children", icon: icon("M12 7a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm-7 14v-2a7 7 0 0 1 14 0v2") },
];

/** Documents read on their own page; the two lists have richer pages of their own. */
const READ_ROUTE: Record<string, string> = {
  "personal-information": "/center/personal-information",
  "third-parties": "/center/third-parties",
};

export const CenterHome = () => {
  const { t } = useTranslation();
  useDocumentTitle(t("center.title"));
  const docs = useApi<DocumentList>("/api/v1/policy/documents");

  return (
    <div className="ui-stack ui-stack--lg">
      <section className="ui-hero" aria-labelledby="center-title">
        <h1 id="center-title">{t("center.title")}</h1>
        <p>{t("center.lead")}</p>
      </section>

      <section aria-labelledby="protects-title">
        <h2 className="ui-section-title" id="protects-title">
          {t("center.protectsTitle")}
        </h2>
        <div className="ui-grid">
          {PROTECTIONS.map((p) => (
            <Card key={p.key} title={t(`center.protects.${p.key}Title`)} aside={p.icon}>
              <p className="ui-muted">{t(`center.protects.${p.key}`)}</p>
            </Card>
          ))}
        </div>
      </section>

      <section aria-labelledby="documents-title">
        <h2 className="ui-section-title" id="documents-title">
          {t("center.documentsTitle")}
        </h2>
        <p className="ui-muted">{t("center.documentsLead")}</p>
        {docs.status === "loading" ? <LoadingState /> : null}
        {docs.status === "error" ? <ErrorState error={docs.error} onRetry={docs.reload} /> : null}
        {docs.status === "ok" ? (
          <>
            <p>
              <Badge tone="info">{t("center.currentVersion", { version: docs.data.version })}</Badge>
            </p>
            <ul className="ui-grid ui-grid--wide ui-list-reset" data-testid="policy-documents">
              {docs.data.documents.map((doc) => (
                <Card
                  as="li"
                  key={doc.id}
                  title={<Link to={READ_ROUTE[doc.id] ?? `/center/policy/${doc.id}`}>{doc.title}</Link>}
                  footer={
                    <span className="ui-downloads">
                      <span className="ui-muted">{t("policy.download")}</span>
                      <a className={buttonClass("ghost", "sm")} href={doc.downloads.html} download>
                        {t("policy.downloadHtml")}
                        <span className="ui-visually-hidden"> · {doc.title}</span>
                      </a>
                      <a className={buttonClass("ghost", "sm")} href={doc.downloads.md} download>
                        {t("policy.downloadMd")}
                        <span className="ui-visually-hidden"> · {doc.title}</span>
                      </a>
                    </span>
                  }
                >
                  <p className="ui-muted">{t(`docsLead.${doc.id}`)}</p>
                </Card>
              ))}
            </ul>
          </>
        ) : null}
      </section>

      <section aria-labelledby="lists-title">
        <h2 className="ui-section-title" id="lists-title">
          {t("center.listsTitle")}
        </h2>
        <div className="ui-grid ui-grid--wide">
          <Card
            title={t("docs.personal-information")}
            footer={<ButtonLink to="/center/personal-information">{t("center.openList")}</ButtonLink>}
          >
            <p className="ui-muted">{t("docsLead.personal-information")}</p>
          </Card>
          <Card
            title={t("account.pi.title")}
            footer={<ButtonLink to="/center/account/personal-information">{t("account.pi.open")}</ButtonLink>}
          >
            <p className="ui-muted">{t("account.pi.cardLead")}</p>
          </Card>
          <ConsentsHomeCard />
          <SettingsCard />
          <PermissionsCard />
          <SubscriptionsCard />
          <SampleAppCard />
          <Card
            title={t("docs.third-parties")}
            footer={<ButtonLink to="/center/third-parties">{t("center.openList")}</ButtonLink>}
          >
            <p className="ui-muted">{t("docsLead.third-parties")}</p>
          </Card>
        </div>
      </section>

      <Alert tone="info" title={t("center.signInTitle")}>
        <p>{t("center.signInBody")}</p>
      </Alert>
    </div>
  );
};
