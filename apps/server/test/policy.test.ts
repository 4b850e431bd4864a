import {
  DOCUMENT_IDS,
  LANGUAGES,
  type LoadedManifest,
  loadDefaultManifest,
  parseManifest,
} from "@custos/manifest";
import { createManifestRepo, createTestDatabase, type Database } from "@custos/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPolicyService } from "../src/policy/policy-service.ts";
import { buildTestApp, type TestApp } from "./helpers.ts";

const OLD_VERSION = "2023-01-01";

let t: TestApp;
let current: string;

/** The default manifest under another version. */
function reversioned(loaded: LoadedManifest, version: string): LoadedManifest {
  const source = loaded.source.replace(/^version: .*$/m, `version: "${version}"`);
  return parseManifest(source, `${version}.yaml`);
}

/** The default manifest re-versioned, standing in for an earlier published policy. */
function olderManifest(loaded: LoadedManifest): LoadedManifest {
  return reversioned(loaded, OLD_VERSION);
}

function publish(db: Database["db"], loaded: LoadedManifest, hash = loaded.hash) {
  return createManifestRepo(db).publish({
    version: loaded.manifest.version,
    hash,
    manifest: loaded.manifest,
    source: loaded.source,
  });
}

beforeAll(async () => {
  t = await buildTestApp({
    seed: async (database) => {
      await publish(database.db, olderManifest(await loadDefaultManifest()));
    },
  });
  current = t.manifest.manifest.version;
});

afterAll(async () => {
  await t?.close();
});

describe("policy API", () => {
  it("POL-1: lists every published version; the loaded manifest is current and older ones stay", async () => {
    const res = await t.app.inject({ method: "GET", url: "/api/v1/policy/versions" });
    expect(res.statusCode).toBe(200);
    const { versions } = res.json() as { versions: { version: string; current: boolean; hash: string }[] };
    expect(versions.map((v) => v.version).sort()).toEqual([OLD_VERSION, current].sort());
    expect(versions.find((v) => v.current)?.version).toBe(current);
    expect(versions.find((v) => v.version === current)?.hash).toBe(t.manifest.hash);
  });

  it("MAN-4: lists the documents with titles and download links in both languages", async () => {
    for (const lang of LANGUAGES) {
      const res = await t.app.inject({ method: "GET", url: `/api/v1/policy/documents?lang=${lang}` });
      expect(res.statusCode).toBe(200);
      const body = res.json() as {
        version: string;
        documents: { id: string; title: string; downloads: { html: string } }[];
      };
      expect(body.version).toBe(current);
      expect(body.documents.map((d) => d.id)).toEqual([...DOCUMENT_IDS]);
      for (const d of body.documents) {
        expect(d.title.length).toBeGreaterThan(0);
        expect(d.downloads.html).toBe(`/policy/${current}/${d.id}.${lang}.html`);
      }
    }
  });

  it("MAN-4: every document renders in English and Simplified Chinese, carrying the version", async () => {
    for (const docId of DOCUMENT_IDS) {
      const titles = new Set<string>();
      for (const lang of LANGUAGES) {
        const res = await t.app.inject({
          method: "GET",
          url: `/api/v1/policy/documents/${docId}?lang=${lang}`,
        });
        expect(res.statusCode, `${docId} ${lang}`).toBe(200);
        const body = res.json() as { id: string; version: string; lang: string; title: string; html: string };
        expect(body).toMatchObject({ id: docId, version: current, lang });
        expect(body.html).toContain(current);
        expect(body.html).not.toMatch(/<script/i);
        titles.add(body.title);
      }
      expect(titles.size).toBe(2);
    }
  });

  it("MAN-4: the language defaults from Accept-Language (zh → zh-CN, otherwise en)", async () => {
    const zh = await t.app.inject({
      method: "GET",
      url: "/api/v1/policy/documents/privacy-policy",
      headers: { "accept-language": "zh-TW,zh;q=0.9,en;q=0.8" },
    });
    expect(zh.json()).toMatchObject({ lang: "zh-CN" });
    const fr = await t.app.inject({
      method: "GET",
      url: "/api/v1/policy/documents/privacy-policy",
      headers: { "accept-language": "fr-FR" },
    });
    expect(fr.json()).toMatchObject({ lang: "en" });
  });

  it("POL-1: an older version stays readable", async () => {
    const res = await t.app.inject({
      method: "GET",
      url: `/api/v1/policy/documents/privacy-policy?lang=en&version=${OLD_VERSION}`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ version: OLD_VERSION });
    expect((res.json() as { html: string }).html).toContain(OLD_VERSION);
  });

  it("MAN-4: the structured lists are served for the web app", async () => {
    const pi = await t.app.inject({ method: "GET", url: "/api/v1/policy/personal-information?lang=zh-CN" });
    expect(pi.statusCode).toBe(200);
    const list = pi.json() as {
      lang: string;
      version: string;
      categories: { id: string; items: string[] }[];
    };
    expect(list).toMatchObject({ lang: "zh-CN", version: current });
    expect(list.categories.length).toBe(t.manifest.manifest.categories.length);

    const tp = await t.app.inject({ method: "GET", url: "/api/v1/policy/third-parties?lang=en" });
    expect(tp.statusCode).toBe(200);
    const third = tp.json() as { recipients: { id: string; company: string }[] };
    expect(third.recipients.map((r) => r.id)).toEqual(t.manifest.manifest.recipients.map((r) => r.id));
  });

  it("MAN-4: downloads have the right content type and a file name", async () => {
    const html = await t.app.inject({ method: "GET", url: `/policy/${current}/privacy-policy.zh-CN.html` });
    expect(html.statusCode).toBe(200);
    expect(html.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(html.headers["content-disposition"]).toBe(
      `attachment; filename="mumuplayer-pro-privacy-policy-${current}.zh-CN.html"`,
    );
    expect(html.body).toMatch(/^<!doctype html>/i);
    expect(html.body).toContain(current);

    const md = await t.app.inject({ method: "GET", url: `/policy/${OLD_VERSION}/third-parties.en.md` });
    expect(md.statusCode).toBe(200);
    expect(md.headers["content-type"]).toBe("text/markdown; charset=utf-8");
    expect(md.headers["content-disposition"]).toMatch(/filename=".*third-parties-2023-01-01\.en\.md"/);
    expect(md.body).toContain(OLD_VERSION);
  });

  it("MAN-4: an unknown version, document or language is a 404 that lists what exists", async () => {
    const version = await t.app.inject({
      method: "GET",
      url: "/api/v1/policy/documents/privacy-policy?version=1999",
    });
    expect(version.statusCode).toBe(404);
    expect(version.json().error.code).toBe("not_found");
    expect(version.json().error.message).toContain(current);
    expect(version.json().error.message).toContain(OLD_VERSION);

    const doc = await t.app.inject({ method: "GET", url: "/api/v1/policy/documents/cookie-policy" });
    expect(doc.statusCode).toBe(404);
    expect(doc.json().error.message).toContain("privacy-policy, children-rules");

    const dlVersion = await t.app.inject({ method: "GET", url: "/policy/1999/privacy-policy.en.html" });
    expect(dlVersion.statusCode).toBe(404);
    expect(dlVersion.json().error.message).toContain(current);

    const dlLang = await t.app.inject({ method: "GET", url: `/policy/${current}/privacy-policy.fr.html` });
    expect(dlLang.statusCode).toBe(404);
    expect(dlLang.json().error.message).toMatch(/en and zh-CN/);

    const dlDoc = await t.app.inject({ method: "GET", url: `/policy/${current}/nothing.en.md` });
    expect(dlDoc.statusCode).toBe(404);
    expect(dlDoc.json().error.details).toEqual({ documents: [...DOCUMENT_IDS] });

    for (const res of [version, doc, dlVersion, dlLang, dlDoc])
      expect(res.json().error.requestId).toBeTruthy();
  });

  it("MAN-4: a bad query is a 400 naming the field and what is expected", async () => {
    const res = await t.app.inject({ method: "GET", url: "/api/v1/policy/documents?lang=fr" });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe("validation_failed");
    expect(error.details.issues[0].field).toBe("query.lang");
    expect(error.message).toMatch(/query\.lang: .*en.*zh-CN/);

    const unknownKey = await t.app.inject({ method: "GET", url: "/api/v1/policy/third-parties?colour=red" });
    expect(unknownKey.statusCode).toBe(400);

    const longVersion = await t.app.inject({
      method: "GET",
      url: `/api/v1/policy/personal-information?version=${"9".repeat(41)}`,
    });
    expect(longVersion.statusCode).toBe(400);
    expect(longVersion.json().error.details.issues[0].field).toBe("query.version");
  });
});

describe("policy publishing at start", () => {
  it("POL-1: starting on an already-published version makes it current again; later versions stay", async () => {
    const app = await buildTestApp({
      seed: async (database) => {
        const loaded = await loadDefaultManifest();
        await publish(database.db, loaded);
        await publish(database.db, reversioned(loaded, "2099-01-01"));
      },
    });
    try {
      const res = await app.app.inject({ method: "GET", url: "/api/v1/policy/versions" });
      const { versions } = res.json() as { versions: { version: string; current: boolean }[] };
      const version = app.manifest.manifest.version;
      expect(versions.map((v) => v.version).sort()).toEqual(["2099-01-01", version].sort());
      expect(versions.filter((v) => v.current).map((v) => v.version)).toEqual([version]);
      const doc = await app.app.inject({ method: "GET", url: "/api/v1/policy/documents?lang=en" });
      expect(doc.json()).toMatchObject({ version });
    } finally {
      await app.close();
    }
  });

  it("POL-1: a changed manifest under an already-published version refuses to start and changes nothing", async () => {
    const loaded = await loadDefaultManifest();
    const otherHash = "0".repeat(64);
    const error = await buildTestApp({
      seed: async (database) => {
        await publish(database.db, loaded, otherHash);
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "conflict" });
    expect((error as Error).message).toMatch(/already published with different content.*new `version`/);

    const database = await createTestDatabase();
    try {
      await publish(database.db, loaded, otherHash);
      const service = createPolicyService({ versions: createManifestRepo(database.db) });
      await expect(service.ensurePublished(loaded)).rejects.toMatchObject({ code: "conflict" });
      expect(await service.listVersions()).toEqual([
        expect.objectContaining({ version: loaded.manifest.version, hash: otherHash, current: true }),
      ]);
    } finally {
      await database.close();
    }
  });
});
