import { useTranslation } from "react-i18next";
import { HomeCard } from "../center/HomeCard.tsx";

/** The privacy-center home's way to the sample app. */
export const SampleAppCard = () => {
  const { t } = useTranslation();
  return (
    <HomeCard
      title={t("sampleApp.card.title")}
      lead={t("sampleApp.card.lead")}
      to="/sample-app"
      open={t("sampleApp.card.open")}
    />
  );
};
