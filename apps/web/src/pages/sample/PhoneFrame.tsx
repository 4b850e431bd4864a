import { type ReactNode, useId } from "react";
import { useTranslation } from "react-i18next";

/**
 * A phone-shaped frame around the simulated MuMuPlayer Pro client: a status bar, the app's title bar
 * and a scrolling screen (a labelled region, focusable so it scrolls with the keyboard).
 */
export const PhoneFrame = ({ children }: { children: ReactNode }) => {
  const { t } = useTranslation();
  const id = useId();
  return (
    <section className="sample-phone" aria-labelledby={`${id}-title`} data-testid="sample-phone">
      <div className="sample-phone__status" aria-hidden="true">
        <span>9:41</span>
        <span>5G ▮▮▮▯</span>
      </div>
      <h2 className="sample-phone__app" id={`${id}-title`}>
        <span aria-hidden="true">▶</span>
        {t("sampleApp.phone.title")}
      </h2>
      <section
        className="sample-phone__screen"
        aria-label={t("sampleApp.phone.screen")}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard
        tabIndex={0}
      >
        {children}
      </section>
    </section>
  );
};
