import { useTranslation } from "react-i18next";
import { ButtonLink, EmptyState, useDocumentTitle } from "../ui/index.ts";

export const NotFoundPage = () => {
  const { t } = useTranslation();
  useDocumentTitle(t("notFound.title"));
  return (
    <div className="ui-stack">
      <h1>{t("notFound.title")}</h1>
      <EmptyState
        title={t("notFound.body")}
        action={
          <ButtonLink variant="primary" to="/center">
            {t("notFound.home")}
          </ButtonLink>
        }
      />
    </div>
  );
};
