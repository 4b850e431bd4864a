import { DOCUMENT_IDS, LANGUAGES } from "@custos/manifest";
import { z } from "zod";

/** HTTP schemas of the public policy API (MAN-4). Every string bounded. */

export const Lang = z.enum(LANGUAGES).describe("Language: en or zh-CN. Defaults from Accept-Language.");
export const VersionString = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, "expected a policy version such as 2025-06-01 or 3.1");

export const LangQuery = z.strictObject({ lang: Lang.optional() });
export const LangVersionQuery = z.strictObject({
  lang: Lang.optional(),
  version: VersionString.optional().describe("A published policy version; the current one when absent."),
});

export const DocIdParams = z.strictObject({
  docId: z
    .string()
    .min(1)
    .max(64)
    .describe(`One of ${DOCUMENT_IDS.join(", ")}`),
});

export const DownloadParams = z.strictObject({
  version: z.string().min(1).max(64),
  file: z.string().min(1).max(120).describe("`<docId>.<lang>.<html|md>`, e.g. privacy-policy.zh-CN.html"),
});

export const PolicyVersion = z.object({
  version: z.string().max(40),
  hash: z.string().max(128),
  publishedAt: z.iso.datetime(),
  current: z.boolean(),
});

export const PolicyVersions = z.object({ versions: z.array(PolicyVersion) }).meta({ id: "PolicyVersions" });

export const DocumentSummary = z.object({
  id: z.enum(DOCUMENT_IDS),
  title: z.string().max(300),
  downloads: z.object({ html: z.string().max(300), md: z.string().max(300) }),
});

export const DocumentList = z
  .object({ version: z.string().max(40), lang: Lang, documents: z.array(DocumentSummary) })
  .meta({ id: "PolicyDocumentList" });

export const RenderedDocument = z
  .object({
    id: z.enum(DOCUMENT_IDS),
    version: z.string().max(40),
    lang: Lang,
    title: z.string().max(300),
    html: z.string().max(5_000_000).describe("Body HTML (fragment) for embedding in the web app"),
  })
  .meta({ id: "PolicyDocument" });

const NamedRef = z.looseObject({ id: z.string().max(64), name: z.string().max(4000) });

/** The Collected Personal Information List (structured); extra fields from the renderer pass through. */
export const PersonalInformationList = z
  .looseObject({
    lang: Lang,
    version: z.string().max(40),
    lastUpdated: z.string().max(20),
    title: z.string().max(300),
    categories: z.array(
      z.looseObject({
        id: z.string().max(64),
        name: z.string().max(4000),
        description: z.string().max(4000),
        items: z.array(z.string().max(4000)),
        purposes: z.array(NamedRef),
        sensitive: z.boolean(),
      }),
    ),
  })
  .meta({ id: "PersonalInformationList" });

/** The List of Third Party Shared Personal Information (structured). */
export const ThirdPartyList = z
  .looseObject({
    lang: Lang,
    version: z.string().max(40),
    lastUpdated: z.string().max(20),
    title: z.string().max(300),
    recipients: z.array(
      z.looseObject({
        id: z.string().max(64),
        name: z.string().max(4000),
        company: z.string().max(4000),
        purposes: z.array(NamedRef),
        categories: z.array(NamedRef),
        enabled: z.boolean(),
      }),
    ),
  })
  .meta({ id: "ThirdPartyList" });
