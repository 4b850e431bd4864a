/**
 * Shapes of the public policy API (docs/CONTRACTS.md), as the web app reads them. The lists mirror
 * `personalInformationList` / `thirdPartyList` in @custos/manifest (render/lists.ts); fields the web
 * app can live without are optional so an older server still renders.
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

export type NamedRef = { id: string; name: string };

export type PersonalInformationEntry = {
  id: string;
  name: string;
  description: string;
  items: string[];
  purposes: NamedRef[];
  sensitive: boolean;
  sensitivity?: "general" | "sensitive";
  sensitivityLabel?: string;
  necessity?: string | null;
  impact?: string | null;
  storage?: "server" | "device-only";
  storageLabel?: string;
  region?: string | null;
  retentionLabel?: string;
  sourceLabel?: string;
  children?: boolean;
};

export type PersonalInformationList = {
  lang: string;
  version: string;
  lastUpdated: string;
  title: string;
  categories: PersonalInformationEntry[];
};

export type ThirdPartyEntry = {
  id: string;
  name: string;
  company: string;
  kind?: string;
  kindLabel?: string;
  relationshipLabel?: string;
  sdkPurposes?: (NamedRef & { description?: string })[];
  purposes: NamedRef[];
  categories: (NamedRef & { sensitive?: boolean })[];
  region?: string;
  dataFormLabel?: string;
  contact?: string;
  privacyPolicyUrl?: string | null;
  enabled: boolean;
  statusLabel?: string;
};

export type ThirdPartyList = {
  lang: string;
  version: string;
  lastUpdated: string;
  title: string;
  recipients: ThirdPartyEntry[];
};

/** One message from the development outbox; addresses and codes arrive masked from the server. */
export type OutboxMessage = {
  id: string;
  channel: string;
  to: string;
  subject: string;
  body: string;
  sentAt: string;
};
