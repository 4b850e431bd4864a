import type { Language } from "../schema.ts";
import type { DocumentId } from "./model.ts";

/** Where a link to another document points, per output format. */
export type DocLinkResolver = (doc: DocumentId, lang: Language) => string;

/** Downloads sit side by side (`/policy/:version/:docId.:lang.html`), so relative links work. */
export const downloadLink =
  (ext: "html" | "md"): DocLinkResolver =>
  (doc, lang) =>
    `${doc}.${lang}.${ext}`;

/** Routes of the web app (privacy center). */
export const webLink: DocLinkResolver = (doc) => {
  if (doc === "personal-information") return "/center/personal-information";
  if (doc === "third-parties") return "/center/third-parties";
  return `/center/policy/${doc}`;
};

/** Only web and mail links are rendered as links; anything else stays plain text. */
export function isSafeHref(href: string): boolean {
  return /^(https?:\/\/|mailto:)[^\s<>"'`]+$/i.test(href);
}
