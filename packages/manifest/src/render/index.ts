import type { Language, Manifest } from "../schema.ts";
import { buildDocument } from "./build-document.ts";
import { toHtmlFragment, toHtmlPage } from "./html.ts";
import { toMarkdown } from "./markdown.ts";
import type { DocumentId, RenderFormat } from "./model.ts";

export { buildDocument, isDocumentId } from "./build-document.ts";
export { escapeHtml, toHtmlFragment, toHtmlPage } from "./html.ts";
export { type DocLinkResolver, downloadLink, webLink } from "./links.ts";
export {
  type NamedRef,
  type PersonalInformationEntry,
  type PersonalInformationList,
  personalInformationList,
  type ThirdPartyEntry,
  type ThirdPartyList,
  thirdPartyList,
} from "./lists.ts";
export { escapeMarkdown, toMarkdown } from "./markdown.ts";
export {
  type Block,
  DOCUMENT_IDS,
  type DocModel,
  type DocumentId,
  type Inline,
  type ListItem,
  type RenderFormat,
  type Run,
  type Section,
  type TableRow,
} from "./model.ts";

/**
 * Renders one document of the manifest: `html` is a complete standalone page, `fragment` the body
 * HTML for the web app, `md` Markdown. All text is escaped.
 */
export function renderDocument(
  manifest: Manifest,
  docId: DocumentId,
  lang: Language,
  format: RenderFormat,
): string {
  const doc = buildDocument(manifest, docId, lang);
  switch (format) {
    case "html":
      return toHtmlPage(doc);
    case "fragment":
      return toHtmlFragment(doc);
    case "md":
      return toMarkdown(doc);
    default:
      throw new RangeError(`Unknown format "${String(format).slice(0, 16)}": use html, md or fragment.`);
  }
}
