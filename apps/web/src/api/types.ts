/**
 * Shapes of the public policy API (docs/CONTRACTS.md), as the web app reads them. The two lists are the
 * types of `personalInformationList` / `thirdPartyList` in @custos/manifest, imported as types only.
 */
export const DOCUMENT_IDS = [
  "privacy-policy",
  "children-rules",
  "personal-information",
  "third-parties",
  "processing-record",
] as const;
export type DocumentId = (typeof DOCUMENT_IDS)[number];
export const isDocumentId = (v: string | undefined): v is DocumentId =>
  v !== undefined && (DOCUMENT_IDS as readonly string[]).includes(v);

export type PolicyVersion = { version: string; hash: string; publishedAt: string; current: boolean };
export type PolicyVersions = { versions: PolicyVersion[] };

export type DocumentSummary = { id: DocumentId; title: string; downloads: { html: string; md: string } };
export type DocumentList = { version: string; lang?: string; documents: DocumentSummary[] };

export type RenderedDocument = { id: DocumentId; version: string; lang: string; title: string; html: string };

export type {
  NamedRef,
  PersonalInformationEntry,
  PersonalInformationList,
  ThirdPartyEntry,
  ThirdPartyList,
} from "@custos/manifest";

/** One message from the development outbox; addresses and codes arrive masked from the server. */
export type OutboxMessage = {
  id: string;
  channel: string;
  to: string;
  subject: string;
  body: string;
  sentAt: string;
};
