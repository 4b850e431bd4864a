import { useTranslation } from "react-i18next";
import { ButtonLink, Card } from "../../ui/index.ts";

/** The privacy-center home's way to the sample app. */
export const SampleAppCard = () => {
  const { t } = useTranslation();
  return (
    <Card
      title={t("sampleApp.card.title")}
      footer={<ButtonLink to="/sample-app">{t("sampleApp.card.open")}</ButtonLink>}
    >
      <p className="ui-muted">{t("sampleApp.card.lead")}</p>
    </Card>
  );
};
