import i18next from "i18next";
import { initReactI18next } from "react-i18next";
import { LANGUAGE_STORAGE_KEY, type Language, pickLanguage } from "./language.ts";
import { resources } from "./resources.ts";

export { isLanguage, LANGUAGES, type Language } from "./language.ts";

const readStored = (): string | null => {
  try {
    return window.localStorage.getItem(LANGUAGE_STORAGE_KEY);
  } catch {
    return null; // storage can be disabled; fall back to the browser's languages
  }
};

const browserLanguages = (): readonly string[] =>
  navigator.languages?.length ? navigator.languages : [navigator.language];

const applyToDocument = (lang: string) => {
  document.documentElement.lang = lang;
};

/** Start i18next with both languages bundled, so switching never waits for the network. */
export const initI18n = async () => {
  const lng = pickLanguage(readStored(), browserLanguages());
  await i18next.use(initReactI18next).init({
    resources: { en: { translation: resources.en }, "zh-CN": { translation: resources["zh-CN"] } },
    lng,
    fallbackLng: "en",
    supportedLngs: ["en", "zh-CN"],
    interpolation: { escapeValue: false }, // React escapes already
    returnNull: false,
  });
  applyToDocument(lng);
  i18next.on("languageChanged", applyToDocument);
  return i18next;
};

/** Switch language and remember the choice for the next visit. */
export const changeLanguage = async (lang: Language) => {
  try {
    window.localStorage.setItem(LANGUAGE_STORAGE_KEY, lang);
  } catch {
    // not remembered when storage is disabled; the switch still applies to this visit
  }
  await i18next.changeLanguage(lang);
};
