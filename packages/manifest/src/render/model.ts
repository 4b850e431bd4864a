import type { Language } from "../schema.ts";

/** The documents rendered from a manifest, in the order the privacy center lists them. */
export const DOCUMENT_IDS = [
  "privacy-policy",
  "children-rules",
  "personal-information",
  "third-parties",
  "processing-record",
] as const;
export type DocumentId = (typeof DOCUMENT_IDS)[number];

export type RenderFormat = "html" | "md" | "fragment";

/**
 * A piece of inline text. `doc` links to another rendered document; each serialiser resolves it to
 * the right address (download file, web route). `href` is an external link.
 */
export type Run = { text: string; strong?: boolean; href?: string; doc?: DocumentId };
export type Inline = string | Run;

export type ListItem = {
  text: Inline[];
  /** Sensitive personal information (MAN-7): shown in bold with a visible marker. */
  highlight?: boolean;
  children?: ListItem[];
};

export type TableRow = { cells: string[]; highlight?: boolean };

export type Block =
  | { kind: "paragraph"; text: Inline[]; highlight?: boolean }
  | { kind: "list"; ordered?: boolean; items: ListItem[] }
  | { kind: "table"; caption?: string; headers: string[]; rows: TableRow[] };

export type Section = {
  /** Stable, unique within the document; used as the HTML anchor. */
  id: string;
  /** The exact heading of the corresponding section of the seed policy (sections.tsv), or null. */
  seedRef: string | null;
  heading: string;
  highlight?: boolean;
  blocks: Block[];
  subsections: Section[];
};

export type DocModel = {
  id: DocumentId;
  title: string;
  /** The policy version (the manifest's `version`). */
  version: string;
  lang: Language;
  /** YYYY-MM-DD */
  lastUpdated: string;
  /** YYYY-MM-DD */
  effectiveDate: string;
  /** Label of the visible marker on highlighted items, in the document's language. */
  sensitiveMarker: string;
  /** Short labels for the document header, in the document's language. */
  labels: { version: string; lastUpdated: string; effectiveDate: string; contents: string; colon: string };
  intro: Block[];
  sections: Section[];
};
