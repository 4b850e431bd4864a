import { useId } from "react";
import { useTranslation } from "react-i18next";
import { changeLanguage, isLanguage, LANGUAGES } from "../i18n/index.ts";

/** Header language switch: each language is named in itself; the choice is remembered. */
export const LanguageSwitch = () => {
  const { t, i18n } = useTranslation();
  const id = useId();
  return (
    <div className="ui-lang">
      <label htmlFor={id}>{t("shell.language")}</label>
      <select
        id={id}
        data-testid="language-switch"
        value={i18n.language}
        onChange={(event) => {
          const value = event.target.value;
          if (isLanguage(value)) void changeLanguage(value);
        }}
      >
        {LANGUAGES.map((lang) => (
          <option key={lang} value={lang} lang={lang}>
            {t(`languages.${lang}`)}
          </option>
        ))}
      </select>
    </div>
  );
};
