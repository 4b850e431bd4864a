import { type ReactNode, useEffect } from "react";
import { useTranslation } from "react-i18next";

/** The page's single h1, its lead paragraph, and the document title. */
export const PageHeader = ({ title, lead, meta }: { title: string; lead?: ReactNode; meta?: ReactNode }) => {
  useDocumentTitle(title);
  return (
    <header className="ui-page-header">
      <h1>{title}</h1>
      {lead ? <p className="ui-page-header__lead">{lead}</p> : null}
      {meta ? <div className="ui-page-header__meta">{meta}</div> : null}
    </header>
  );
};

export const useDocumentTitle = (title: string) => {
  const { t } = useTranslation();
  useEffect(() => {
    document.title = `${title} · ${t("app.titleSuffix")}`;
  }, [title, t]);
};
