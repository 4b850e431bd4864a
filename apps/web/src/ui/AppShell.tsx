import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { LanguageSwitch } from "./LanguageSwitch.tsx";
import { Nav } from "./Nav.tsx";

export const MAIN_ID = "main-content";

const Mark = () => (
  <svg className="ui-brand__mark" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
    <path fill="#5b8def" d="M16 2 4 7v8c0 7.4 5.1 13.6 12 15 6.9-1.4 12-7.6 12-15V7L16 2z" />
    <path fill="#fff" d="m14 20.6-4.3-4.3 1.8-1.8 2.5 2.5 6.5-6.5 1.8 1.8z" />
  </svg>
);

/** Header (brand, navigation, language), main landmark behind a skip link, footer with policy links. */
/** `tools` go in the header next to the language switch (e.g. the signed-in account). */
export const AppShell = ({ children, tools }: { children: ReactNode; tools?: ReactNode }) => {
  const { t } = useTranslation();
  const nav = [
    { to: "/center", label: t("nav.center"), end: true },
    { to: "/center/personal-information", label: t("nav.personalInformation") },
    { to: "/center/third-parties", label: t("nav.thirdParties") },
    { to: "/console", label: t("nav.console") },
  ];
  const footerDocs = ["privacy-policy", "children-rules", "processing-record"] as const;
  return (
    <div className="ui-shell">
      <a className="ui-skip-link" href={`#${MAIN_ID}`}>
        {t("shell.skipToContent")}
      </a>
      <header className="ui-header">
        <div className="ui-header__inner">
          <Link className="ui-brand" to="/center">
            <Mark />
            <span>{t("app.name")}</span>
            <span className="ui-brand__tagline">{t("app.tagline")}</span>
          </Link>
          <div className="ui-header__nav">
            <Nav items={nav} label={t("shell.mainNav")} />
          </div>
          <div className="ui-header__tools">
            {tools}
            <LanguageSwitch />
          </div>
        </div>
      </header>
      <main className="ui-main" id={MAIN_ID} tabIndex={-1}>
        <div className="ui-main__inner">{children}</div>
      </main>
      <footer className="ui-footer">
        <div className="ui-footer__inner">
          <nav aria-label={t("shell.footerNav")}>
            <ul>
              {footerDocs.map((doc) => (
                <li key={doc}>
                  <Link to={`/center/policy/${doc}`}>{t(`docs.${doc}`)}</Link>
                </li>
              ))}
              <li>
                <Link to="/center/personal-information">{t("docs.personal-information")}</Link>
              </li>
              <li>
                <Link to="/center/third-parties">{t("docs.third-parties")}</Link>
              </li>
              <li>
                <a href="/docs">{t("shell.apiDocs")}</a>
              </li>
            </ul>
          </nav>
          <p>{t("shell.footerNote")}</p>
        </div>
      </footer>
    </div>
  );
};
