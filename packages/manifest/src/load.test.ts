import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_MANIFEST_PATH,
  formatIssue,
  loadDefaultManifest,
  loadManifestFile,
  ManifestError,
  parseManifest,
} from "./load.ts";
import { checkManifest } from "./load-checks.ts";
import { DEFAULT_SOURCE, errorOf, FILE, lineOf, replaceOnce } from "./load-test-helpers.ts";

const base = parseManifest(DEFAULT_SOURCE, FILE).manifest;
const indexOf = (list: readonly { id: string }[], id: string) => {
  const i = list.findIndex((x) => x.id === id);
  if (i < 0) throw new Error(`no ${id} in the default manifest`);
  return i;
};
const purposeAt = (id: string) => indexOf(base.purposes, id);
const categoryAt = (id: string) => indexOf(base.categories, id);

/** Independent canonical JSON for the hash check. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sorted(v)]),
    );
  return value;
}

const cleanup: string[] = [];
afterEach(async () => {
  for (const dir of cleanup.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("manifest loader", () => {
  it("MAN-1: the default manifest loads from its file and passes every check", async () => {
    const loaded = await loadDefaultManifest();
    expect(loaded.file).toBe(DEFAULT_MANIFEST_PATH);
    expect(loaded.source).toBe(DEFAULT_SOURCE);
    expect(loaded.manifest.manifestVersion).toBe(1);
    expect(loaded.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(checkManifest(loaded.manifest)).toEqual([]);
  });

  it("MAN-1: the hash is sha256 of the canonical JSON, independent of key order and formatting", () => {
    const loaded = parseManifest(DEFAULT_SOURCE, FILE);
    const expected = createHash("sha256")
      .update(JSON.stringify(sorted(loaded.manifest)))
      .digest("hex");
    expect(loaded.hash).toBe(expected);

    let reordered = replaceOnce(
      DEFAULT_SOURCE,
      'manifestVersion: 1\nversion: "2024-03-26"\n',
      'version: "2024-03-26"\nmanifestVersion: 1\n',
    );
    reordered = replaceOnce(
      reordered,
      'name: { en: "MuMuPlayer Pro", zh-CN: "MuMu模拟器Pro" }',
      'name:\n    zh-CN: "MuMu模拟器Pro"\n    en: "MuMuPlayer Pro"',
    );
    expect(parseManifest(reordered, FILE).hash).toBe(loaded.hash);

    const changed = replaceOnce(DEFAULT_SOURCE, "responseWorkingDays: 15", "responseWorkingDays: 14");
    expect(parseManifest(changed, FILE).hash).not.toBe(loaded.hash);
  });

  it("MAN-3: a wrong enum value is reported with file, line and path", () => {
    const text = replaceOnce(
      DEFAULT_SOURCE,
      "    legalBasis: contract\n    function: basic\n    categories: [orders, payment, recharge-consumption]",
      "    legalBasis: contrakt\n    function: basic\n    categories: [orders, payment, recharge-consumption]",
    );
    const error = errorOf(text);
    const path = `purposes[${purposeAt("order-payment")}].legalBasis`;
    const line = lineOf(text, "legalBasis: contrakt");
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ file: FILE, line, column: 5, path });
    expect(error.issues[0]?.message).toMatch(/^expected one of consent, contract, legal-obligation, /);
    expect(error.message).toContain(`${FILE}:${line} ${path}: expected one of consent, contract`);
  });

  it("MAN-3: a missing required field points at the nearest existing parent", () => {
    const text = replaceOnce(DEFAULT_SOURCE, "    dpv: dpv:AccountManagement\n", "");
    const error = errorOf(text);
    expect(error.issues).toEqual([
      {
        file: FILE,
        line: lineOf(text, "  - id: account-registration"),
        column: 5,
        path: `purposes[${purposeAt("account-registration")}].dpv`,
        message: expect.stringMatching(/required field is missing/),
      },
    ]);

    const noZone = replaceOnce(DEFAULT_SOURCE, "  timeZone: Asia/Shanghai\n", "");
    const zoneIssue = errorOf(noZone).issues[0];
    expect(zoneIssue).toMatchObject({ line: lineOf(noZone, "\nchildren:\n") + 1, path: "children.timeZone" });
  });

  it("MAN-3: an unknown reference is reported at the referencing node", () => {
    const text = replaceOnce(
      DEFAULT_SOURCE,
      "categories: [security-data, device]",
      "categories: [security-data, device, devise]",
    );
    const error = errorOf(text);
    expect(error.issues).toEqual([
      {
        file: FILE,
        line: lineOf(text, "[security-data, device, devise]"),
        column: expect.any(Number),
        path: `purposes[${purposeAt("anti-cheat")}].categories[2]`,
        message: 'unknown category "devise": declare it under categories or fix the id',
      },
    ]);
  });

  it("MAN-3: every kind of cross reference is checked and all problems are reported", () => {
    let text = replaceOnce(DEFAULT_SOURCE, "    retention: survey\n", "    retention: surveys\n");
    text = replaceOnce(text, "    sdkPurposes: [logistics]\n", "    sdkPurposes: [shipping]\n");
    text = replaceOnce(text, "    permissions: [calendar]\n", "    permissions: [diary]\n");
    text = replaceOnce(
      text,
      "    features: [friend-invites]\n    refusalImpact:",
      "    features: [friends]\n    refusalImpact:",
    );
    text = replaceOnce(
      text,
      "  guardianCategories: [guardian-contact, guardianship-proof]",
      "  guardianCategories: [guardian-contact, guardian-proof]",
    );
    const messages = errorOf(text).issues.map((i) => `${i.line} ${i.path}: ${i.message}`);
    expect(messages).toEqual(
      [
        `${lineOf(text, "retention: surveys")} categories[${categoryAt("survey")}].retention: unknown retention rule "surveys": declare it under retention or fix the id`,
        `${lineOf(text, "features: [friends]")} permissions[${indexOf(base.permissions, "contacts")}].features[0]: unknown feature "friends": declare it under features or fix the id`,
        `${lineOf(text, "sdkPurposes: [shipping]")} recipients[${indexOf(base.recipients, "sdk-logistics")}].sdkPurposes[0]: unknown SDK purpose "shipping": declare it under sdkPurposes or fix the id`,
        `${lineOf(text, "permissions: [diary]")} purposes[${purposeAt("calendar-reminders")}].permissions[0]: unknown permission "diary": declare it under permissions or fix the id`,
        `${lineOf(text, "[guardian-contact, guardian-proof]")} children.guardianCategories[1]: unknown category "guardian-proof": declare it under categories or fix the id`,
      ].sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10)),
    );
  });

  it("MAN-3: a duplicate id is reported at the second occurrence", () => {
    const reminders =
      '  - { id: reminders, name: { en: "Calendar reminders", zh-CN: "日程提醒" }, function: extended }';
    const duplicate = '  - { id: push, name: { en: "More push", zh-CN: "更多推送" }, function: extended }';
    const text = replaceOnce(DEFAULT_SOURCE, reminders, `${reminders}\n${duplicate}`);
    const error = errorOf(text);
    const first = indexOf(base.features, "push");
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({
      line: lineOf(text, duplicate),
      path: `features[${indexOf(base.features, "reminders") + 1}].id`,
      message: `duplicate id "push" (already used at features[${first}]): ids must be unique in this list`,
    });
  });

  it("MAN-3: a YAML syntax error gives file and line", () => {
    const text = replaceOnce(DEFAULT_SOURCE, "  ageThreshold: 14\n", "  ageThreshold: 14: 15\n");
    const error = errorOf(text);
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.issues[0]).toMatchObject({
      file: FILE,
      line: lineOf(text, "ageThreshold: 14: 15"),
      path: "",
    });
    expect(error.issues[0]?.message).toMatch(/^YAML syntax error: /);
    expect(error.message).toContain(`${FILE}:${lineOf(text, "ageThreshold: 14: 15")}: YAML syntax error`);

    const twice = replaceOnce(DEFAULT_SOURCE, "  adultAge: 18\n", "  adultAge: 18\n  adultAge: 19\n");
    expect(errorOf(twice).issues[0]).toMatchObject({ line: lineOf(twice, "adultAge: 19") });
    expect(errorOf(twice).issues[0]?.message).toMatch(/unique/);
  });

  it("MAN-3: several errors in one file are all reported, in line order", () => {
    let text = replaceOnce(DEFAULT_SOURCE, "    country: CN\n", "    country: cn\n");
    text = replaceOnce(
      text,
      "    grade: 4\n    identifying: false\n    storage: server\n    region: cn\n    retention: location",
      "    grade: 7\n    identifying: false\n    storage: server\n    region: cn\n    retention: location",
    );
    text = replaceOnce(
      text,
      "    legalBasis: contract\n    function: basic\n    categories: [orders, payment, recharge-consumption]",
      "    legalBasis: contrakt\n    function: basic\n    categories: [orders, payment, recharge-consumption]",
    );
    text = replaceOnce(text, "  adultAge: 18\n", "  adultAge: 18\n  adultAg: 18\n");
    const issues = errorOf(text).issues;
    expect(issues.map((i) => [i.line, i.path])).toEqual([
      [lineOf(text, "country: cn"), "regions[0].country"],
      [lineOf(text, "grade: 7"), `categories[${categoryAt("location")}].grade`],
      [lineOf(text, "legalBasis: contrakt"), `purposes[${purposeAt("order-payment")}].legalBasis`],
      [lineOf(text, "adultAg: 18"), "children.adultAg"],
    ]);
    expect(issues[0]?.message).toMatch(/country code/);
    expect(issues[3]?.message).toBe('unknown field "adultAg": remove it or check its spelling');
    const error = errorOf(text);
    expect(error.message.split("\n").slice(1)).toEqual(issues.map(formatIssue));
  });

  it("MAN-3: loadManifestFile names the file it read in every issue", async () => {
    const dir = await mkdtemp(join(tmpdir(), "custos-manifest-"));
    cleanup.push(dir);
    const path = join(dir, "broken.yaml");
    await writeFile(
      path,
      replaceOnce(DEFAULT_SOURCE, "responseWorkingDays: 15", "responseWorkingDays: fifteen"),
    );
    const error = await loadManifestFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).issues[0]).toMatchObject({
      file: path,
      path: "contact.responseWorkingDays",
    });
    expect((error as ManifestError).message).toContain(`${path}:`);

    const missing = await loadManifestFile(join(dir, "nope.yaml")).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ManifestError);
    expect((missing as ManifestError).issues[0]?.message).toMatch(/cannot read the file \(ENOENT\)/);
  });

  it("MAN-3: exactly one region is the default", () => {
    const text = replaceOnce(DEFAULT_SOURCE, "    default: true\n", "    default: false\n");
    expect(errorOf(text).issues).toMatchObject([
      { path: "regions", message: "no default region: mark exactly one region with default: true" },
    ]);
  });
});

describe("manifest rules on sensitive and device-only data", () => {
  it("MAN-7: a sensitive category without necessity is refused", () => {
    const start = DEFAULT_SOURCE.indexOf('    necessity:\n      en: "Location-based features');
    const end = DEFAULT_SOURCE.indexOf("    impact:", start);
    expect(start).toBeGreaterThan(0);
    const text = DEFAULT_SOURCE.slice(0, start) + DEFAULT_SOURCE.slice(end);
    expect(errorOf(text).issues).toEqual([
      {
        file: FILE,
        line: lineOf(text, 'name: { en: "Precise location"') - 1,
        column: 5,
        path: `categories[${categoryAt("location")}].necessity`,
        message: "a sensitive category must state its necessity (PIPL 30)",
      },
    ]);
  });

  it("MAN-7: device-only data may have no retention and never reaches a recipient", () => {
    const clipboard = base.categories[categoryAt("clipboard")];
    expect(clipboard?.storage).toBe("device-only");

    const stored = replaceOnce(
      DEFAULT_SOURCE,
      "    storage: device-only\n",
      "    storage: device-only\n    retention: logs\n",
    );
    expect(errorOf(stored).issues).toMatchObject([
      {
        path: `categories[${categoryAt("clipboard")}].retention`,
        message: expect.stringMatching(/device-only/),
      },
    ]);

    // The share-codes purpose passes the clipboard to the push SDK.
    let shared = replaceOnce(
      DEFAULT_SOURCE,
      "    categories: [clipboard]\n    consent: policy\n    features: [share-codes]\n",
      "    categories: [clipboard]\n    consent: policy\n    features: [share-codes]\n    recipients: [sdk-push]\n",
    );
    shared = replaceOnce(
      shared,
      "    purposes: [push-notifications, personalised-content]\n    categories: [device]\n",
      "    purposes: [push-notifications, personalised-content, share-codes]\n    categories: [device, clipboard]\n",
    );
    const issues = errorOf(shared).issues;
    expect(issues.map((i) => i.path).sort()).toEqual(
      [
        `purposes[${purposeAt("share-codes")}].categories[0]`,
        `recipients[${indexOf(base.recipients, "sdk-push")}].categories[1]`,
      ].sort(),
    );
    expect(issues.every((i) => /device-only/.test(i.message))).toBe(true);
  });

  it("CON-4: a consent-based purpose using a sensitive category needs separate consent", () => {
    const text = replaceOnce(
      DEFAULT_SOURCE,
      "    categories: [location, device]\n    consent: separate\n",
      "    categories: [location, device]\n    consent: policy\n",
    );
    expect(errorOf(text).issues).toMatchObject([
      {
        path: `purposes[${purposeAt("location-services")}].consent`,
        message: expect.stringMatching(/sensitive category "location": set consent to separate/),
      },
    ]);
  });

  it("CON-15: recommendation and advertising purposes may not use real-name or ID data", () => {
    const text = replaceOnce(
      DEFAULT_SOURCE,
      "categories: [device, location, advertising-profile]\n",
      "categories: [device, location, advertising-profile, real-name]\n",
    );
    expect(errorOf(text).issues).toMatchObject([
      {
        line: lineOf(text, "advertising-profile, real-name]"),
        path: `purposes[${purposeAt("personalised-ads")}].categories[3]`,
        message: expect.stringMatching(/must not use real-name or ID data/),
      },
    ]);
  });

  it("CON-8: a purpose governed by a personalisation setting is extended and consent-based", () => {
    const text = replaceOnce(
      DEFAULT_SOURCE,
      "    function: extended\n    categories: [device, logs, location, recharge-consumption, recommendation-profile]\n",
      "    function: basic\n    categories: [device, logs, location, recharge-consumption, recommendation-profile]\n",
    );
    expect(errorOf(text).issues).toMatchObject([
      {
        path: `purposes[${purposeAt("personalised-content")}].function`,
        message: expect.stringMatching(/set function to extended/),
      },
    ]);
  });
});
