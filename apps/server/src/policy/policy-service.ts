import { AppError } from "@custos/core";
import {
  buildDocument,
  DOCUMENT_IDS,
  type DocumentId,
  LANGUAGES,
  type Language,
  type LoadedManifest,
  Manifest,
  personalInformationList,
  renderDocument,
  thirdPartyList,
} from "@custos/manifest";
import type { ManifestRepo } from "@custos/store";

/**
 * The public policy (MAN-4, POL-1): every published manifest version stays available, rendered in
 * English and Simplified Chinese, as JSON for the web app and as downloadable HTML and Markdown.
 */

export type PublishedVersion = {
  version: string;
  hash: string;
  publishedAt: Date;
  current: boolean;
};

/** What the policy service needs from storage: @custos/store's manifest repo (`createManifestRepo`). */
export type ManifestVersionStore = Pick<ManifestRepo, "list" | "get" | "publish" | "setCurrent">;

export type DownloadFormat = "html" | "md";

export const CONTENT_TYPES: Record<DownloadFormat, string> = {
  html: "text/html; charset=utf-8",
  md: "text/markdown; charset=utf-8",
};

const FILE_RE = /^([a-z][a-z0-9-]*)\.([A-Za-z-]+)\.(html|md)$/;
const CACHE_LIMIT = 300;

export function downloadPath(
  version: string,
  docId: DocumentId,
  lang: Language,
  format: DownloadFormat,
): string {
  return `/policy/${encodeURIComponent(version)}/${docId}.${lang}.${format}`;
}

/** `Accept-Language` → en or zh-CN: any Chinese preference ranked above English wins zh-CN. */
export function languageFromHeader(header: string | undefined): Language {
  if (!header) return "en";
  const ranked = header
    .split(",")
    .slice(0, 20)
    .map((part, index) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((x) => x.tag !== "" && x.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranked) {
    if (tag === "zh" || tag.startsWith("zh-")) return "zh-CN";
    if (tag === "en" || tag.startsWith("en-") || tag === "*") return "en";
  }
  return "en";
}

function isDocumentId(value: string): value is DocumentId {
  return (DOCUMENT_IDS as readonly string[]).includes(value);
}

function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value);
}

function unknownDocument(): AppError {
  return new AppError("not_found", {
    message: `No such policy document. Available documents: ${DOCUMENT_IDS.join(", ")}.`,
    details: { documents: [...DOCUMENT_IDS] },
  });
}

export type PolicyService = ReturnType<typeof createPolicyService>;

type Deps = { versions: ManifestVersionStore };

export function createPolicyService({ versions }: Deps) {
  /** Published manifests never change, so parsed manifests and renderings are cached by hash. */
  const manifests = new Map<string, { hash: string; manifest: Manifest }>();
  const renders = new Map<string, string>();

  function cached(key: string, make: () => string): string {
    const hit = renders.get(key);
    if (hit !== undefined) return hit;
    const value = make();
    if (renders.size >= CACHE_LIMIT) {
      const oldest = renders.keys().next().value;
      if (oldest !== undefined) renders.delete(oldest);
    }
    renders.set(key, value);
    return value;
  }

  async function listVersions(): Promise<PublishedVersion[]> {
    return (await versions.list()).map(({ version, hash, publishedAt, isCurrent }) => ({
      version,
      hash,
      publishedAt,
      current: isCurrent,
    }));
  }

  async function resolve(
    version: string | undefined,
  ): Promise<{ version: string; hash: string; manifest: Manifest }> {
    const all = await versions.list();
    const wanted = version ?? all.find((v) => v.isCurrent)?.version;
    const known = all.map((v) => v.version);
    if (wanted === undefined || !known.includes(wanted))
      throw new AppError("not_found", {
        message:
          wanted === undefined
            ? "No policy version has been published yet. Start the server with a manifest to publish one."
            : `Policy version "${wanted}" does not exist. Published versions: ${known.join(", ") || "none"}.`,
        details: { versions: known },
      });
    const hit = manifests.get(wanted);
    if (hit) return { version: wanted, ...hit };
    const stored = await versions.get(wanted);
    if (!stored)
      throw new AppError("not_found", {
        message: `Policy version "${wanted}" does not exist. Published versions: ${known.join(", ")}.`,
        details: { versions: known },
      });
    const entry = { hash: stored.hash, manifest: Manifest.parse(stored.manifest) };
    manifests.set(wanted, entry);
    return { version: wanted, ...entry };
  }

  async function listDocuments(lang: Language) {
    const { version, manifest, hash } = await resolve(undefined);
    return {
      version,
      lang,
      documents: DOCUMENT_IDS.map((id) => ({
        id,
        title: cached(`${hash}|${id}|${lang}|title`, () => buildDocument(manifest, id, lang).title),
        downloads: {
          html: downloadPath(version, id, lang, "html"),
          md: downloadPath(version, id, lang, "md"),
        },
      })),
    };
  }

  async function getDocument(docId: string, lang: Language, version: string | undefined) {
    if (!isDocumentId(docId)) throw unknownDocument();
    const resolved = await resolve(version);
    const { manifest, hash } = resolved;
    return {
      id: docId,
      version: resolved.version,
      lang,
      title: cached(`${hash}|${docId}|${lang}|title`, () => buildDocument(manifest, docId, lang).title),
      html: cached(`${hash}|${docId}|${lang}|fragment`, () =>
        renderDocument(manifest, docId, lang, "fragment"),
      ),
    };
  }

  /** A download named like `privacy-policy.zh-CN.html` of a published version. */
  async function download(version: string, file: string) {
    const match = FILE_RE.exec(file);
    if (!match)
      throw new AppError("not_found", {
        message: `Downloads are named <document>.<language>.<html|md>, e.g. privacy-policy.en.html. Documents: ${DOCUMENT_IDS.join(", ")}; languages: ${LANGUAGES.join(", ")}.`,
      });
    const [, docId = "", lang = "", format = ""] = match;
    if (!isDocumentId(docId)) throw unknownDocument();
    if (!isLanguage(lang))
      throw new AppError("not_found", {
        message: `Documents are available in ${LANGUAGES.join(" and ")} only. Use one of those in the file name.`,
        details: { languages: [...LANGUAGES] },
      });
    const fmt = format as DownloadFormat;
    const resolved = await resolve(version);
    const body = cached(`${resolved.hash}|${docId}|${lang}|${fmt}`, () =>
      renderDocument(resolved.manifest, docId, lang, fmt),
    );
    const safeVersion = resolved.version.replace(/[^A-Za-z0-9._-]/g, "_");
    return {
      body,
      contentType: CONTENT_TYPES[fmt],
      filename: `${resolved.manifest.product.id}-${docId}-${safeVersion}.${lang}.${fmt}`,
    };
  }

  async function personalInformation(lang: Language, version: string | undefined) {
    const { manifest } = await resolve(version);
    return personalInformationList(manifest, lang);
  }

  async function thirdParties(lang: Language, version: string | undefined) {
    const { manifest } = await resolve(version);
    return thirdPartyList(manifest, lang);
  }

  /**
   * Publishes the manifest the server runs with (POL-1): a new version is stored and becomes
   * current, older versions stay; an already-published version becomes current again (e.g. after a
   * rollback) but must have the same content, since a published version never changes.
   * `becameCurrent` says whether the version in force changed (from `previousVersion`), so that
   * consents bound to changed purposes can be invalidated (CON-13, consent/invalidation.ts).
   */
  async function ensurePublished(
    loaded: LoadedManifest,
  ): Promise<{ becameCurrent: boolean; previousVersion: string | null }> {
    const version = loaded.manifest.version;
    const all = await versions.list();
    const existing = all.find((v) => v.version === version);
    if (existing && existing.hash !== loaded.hash)
      throw new AppError("conflict", {
        message: `Manifest version "${version}" is already published with different content. Give the changed manifest a new \`version\` (published versions never change).`,
        details: { version },
      });
    const previousVersion = all.find((v) => v.isCurrent)?.version ?? null;
    if (existing?.isCurrent) return { becameCurrent: false, previousVersion };
    const { created } = await versions.publish({
      version,
      hash: loaded.hash,
      manifest: loaded.manifest,
      source: loaded.source,
    });
    // The store leaves "current" alone when the version was already there.
    if (!created) await versions.setCurrent(version);
    return { becameCurrent: true, previousVersion };
  }

  return {
    listVersions,
    listDocuments,
    getDocument,
    download,
    personalInformation,
    thirdParties,
    ensurePublished,
  };
}
