import { LEGAL_BASES, type Manifest } from "./schema.ts";

/**
 * Cross-reference and consistency checks that zod cannot express field by field (MAN-1, MAN-3, MAN-7, CON-15).
 * They run on a manifest that already passed the schema; each problem names the path of the offending node
 * so the loader can map it to file:line.
 */

export type ManifestPath = (string | number)[];
export type ManifestProblem = { path: ManifestPath; message: string };

type Identified = { id: string };
type DataCategory = Manifest["categories"][number];

/** Real-name or ID data: never used for recommendation or advertising (CON-15). */
export function isRealIdentityCategory(category: DataCategory): boolean {
  if (category.classification === "identity") return true;
  if (category.fields.some((f) => f.kind === "id-number")) return true;
  return category.identifying && category.fields.some((f) => f.kind === "name");
}

export function checkManifest(m: Manifest): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const add = (path: ManifestPath, message: string) => problems.push({ path, message });

  // Ids are unique within each list.
  const unique = (base: ManifestPath, items: readonly Identified[]) => {
    const first = new Map<string, number>();
    items.forEach((item, i) => {
      const at = first.get(item.id);
      if (at === undefined) first.set(item.id, i);
      else
        add(
          [...base, i, "id"],
          `duplicate id "${item.id}" (already used at ${formatPath([...base, at])}): ids must be unique in this list`,
        );
    });
  };
  unique(["legalBases"], m.legalBases);
  unique(["documents"], m.documents);
  unique(["regions"], m.regions);
  unique(["retention"], m.retention);
  unique(["categories"], m.categories);
  m.categories.forEach((c, i) => {
    unique(["categories", i, "fields"], c.fields);
  });
  unique(["features"], m.features);
  unique(["purposes"], m.purposes);
  unique(["permissions"], m.permissions);
  unique(["cookies"], m.cookies);
  unique(["sdkPurposes"], m.sdkPurposes);
  unique(["recipients"], m.recipients);
  unique(["affiliates"], m.affiliates);
  unique(["marketingChannels"], m.marketingChannels);
  unique(["notices"], m.notices);
  unique(["rights"], m.rights);
  unique(["materialChanges"], m.materialChanges);
  unique(["children", "proofKinds"], m.children.proofKinds);
  unique(["incidents", "grades"], m.incidents.grades);

  // Every reference points at something declared.
  const ids = (items: readonly Identified[]) => new Set(items.map((x) => x.id));
  const refChecker =
    (declared: Set<string>, kind: string, list: string) => (path: ManifestPath, value: string) => {
      if (!declared.has(value))
        add(path, `unknown ${kind} "${value}": declare it under ${list} or fix the id`);
    };
  const refList = (
    check: (path: ManifestPath, value: string) => void,
    base: ManifestPath,
    values: readonly string[],
  ) =>
    values.forEach((v, i) => {
      check([...base, i], v);
    });

  const category = refChecker(ids(m.categories), "category", "categories");
  const retention = refChecker(ids(m.retention), "retention rule", "retention");
  const region = refChecker(ids(m.regions), "region", "regions");
  const feature = refChecker(ids(m.features), "feature", "features");
  const permission = refChecker(ids(m.permissions), "permission", "permissions");
  const recipient = refChecker(ids(m.recipients), "recipient", "recipients");
  const purpose = refChecker(ids(m.purposes), "purpose", "purposes");
  const sdkPurpose = refChecker(ids(m.sdkPurposes), "SDK purpose", "sdkPurposes");

  m.categories.forEach((c, i) => {
    if (c.retention !== undefined) retention(["categories", i, "retention"], c.retention);
    if (c.region !== undefined) region(["categories", i, "region"], c.region);
  });
  m.purposes.forEach((p, i) => {
    refList(category, ["purposes", i, "categories"], p.categories);
    refList(feature, ["purposes", i, "features"], p.features);
    refList(permission, ["purposes", i, "permissions"], p.permissions);
    refList(recipient, ["purposes", i, "recipients"], p.recipients);
  });
  m.permissions.forEach((p, i) => {
    refList(category, ["permissions", i, "categories"], p.categories);
    refList(feature, ["permissions", i, "features"], p.features);
  });
  m.cookies.forEach((c, i) => {
    refList(category, ["cookies", i, "categories"], c.categories);
  });
  m.recipients.forEach((r, i) => {
    refList(category, ["recipients", i, "categories"], r.categories);
    refList(purpose, ["recipients", i, "purposes"], r.purposes);
    refList(sdkPurpose, ["recipients", i, "sdkPurposes"], r.sdkPurposes);
    region(["recipients", i, "region"], r.region);
  });
  m.affiliates.forEach((a, i) => {
    refList(category, ["affiliates", i, "categories"], a.categories);
    refList(purpose, ["affiliates", i, "purposes"], a.purposes);
  });
  m.marketingChannels.forEach((c, i) => {
    refList(category, ["marketingChannels", i, "categories"], c.categories);
  });
  m.notices.forEach((n, i) => {
    refList(category, ["notices", i, "categories"], n.categories);
    refList(purpose, ["notices", i, "purposes"], n.purposes);
  });
  refList(category, ["children", "realNameCategories"], m.children.realNameCategories);
  refList(category, ["children", "guardianCategories"], m.children.guardianCategories);

  // Exactly one default region.
  const defaults = m.regions.flatMap((r, i) => (r.default ? [i] : []));
  if (defaults.length === 0)
    add(["regions"], "no default region: mark exactly one region with default: true");
  for (const i of defaults.slice(1))
    add(["regions", i, "default"], "more than one default region: keep default: true on exactly one region");

  // Consent and the six no-consent legal bases are all declared (MAN-1).
  const declaredBases = new Set(m.legalBases.map((b) => b.id));
  for (const basis of LEGAL_BASES)
    if (!declaredBases.has(basis))
      add(
        ["legalBases"],
        `legal basis "${basis}" is not declared: declare consent and all six no-consent bases`,
      );

  const byCategory = new Map(m.categories.map((c) => [c.id, c]));
  const byRecipient = new Map(m.recipients.map((r) => [r.id, r]));

  // Device-only data (MAN-7): never stored, never passed on.
  m.categories.forEach((c, i) => {
    if (c.storage !== "device-only") return;
    if (c.retention !== undefined)
      add(
        ["categories", i, "retention"],
        "device-only data is never stored, so it has no retention rule: remove it",
      );
    if (c.region !== undefined)
      add(
        ["categories", i, "region"],
        "device-only data is never stored, so it has no storage region: remove it",
      );
  });
  const isDeviceOnly = (id: string) => byCategory.get(id)?.storage === "device-only";
  const noDeviceOnly = (base: ManifestPath, values: readonly string[], who: string) =>
    values.forEach((v, k) => {
      if (isDeviceOnly(v))
        add([...base, k], `"${v}" is device-only data and never leaves the device: remove it from ${who}`);
    });
  m.recipients.forEach((r, i) => {
    noDeviceOnly(["recipients", i, "categories"], r.categories, "this recipient");
  });
  m.affiliates.forEach((a, i) => {
    noDeviceOnly(["affiliates", i, "categories"], a.categories, "this affiliate");
  });
  m.marketingChannels.forEach((c, i) => {
    noDeviceOnly(["marketingChannels", i, "categories"], c.categories, "this marketing channel");
  });

  const realNameCategories = new Set(m.children.realNameCategories);
  m.purposes.forEach((p, i) => {
    const at = (...rest: ManifestPath) => ["purposes", i, ...rest];
    p.categories.forEach((cid, k) => {
      const c = byCategory.get(cid);
      if (!c) return;
      if (c.storage === "device-only") {
        const receivers = p.recipients.filter((rid) => byRecipient.get(rid)?.categories.includes(cid));
        if (receivers.length > 0)
          add(
            at("categories", k),
            `device-only category "${cid}" is used by a purpose whose recipients (${receivers.join(", ")}) receive it: ` +
              "device-only data never leaves the device",
          );
      }
      // Sensitive data needs separate consent unless the basis needs no consent (PIPL 29).
      if (c.sensitivity === "sensitive" && p.legalBasis === "consent" && p.consent !== "separate")
        add(
          at("consent"),
          `uses the sensitive category "${cid}": set consent to separate (with separateReason: sensitive), ` +
            "or use a legal basis that needs no consent",
        );
      // Recommendation and advertising work on pseudonymous data only (CON-15): no real-name
      // authentication category (children.realNameCategories), no identity or ID-number category.
      if (p.setting !== undefined && (realNameCategories.has(cid) || isRealIdentityCategory(c)))
        add(
          at("categories", k),
          `the ${p.setting} purpose must not use real-name or ID data ("${cid}"): personalisation works on pseudonymous ids only`,
        );
    });
    // A purpose governed by a personal switch is optional and consent-based (CON-8).
    if (p.setting !== undefined) {
      if (p.function !== "extended")
        add(
          at("function"),
          `a purpose governed by the ${p.setting} setting is optional: set function to extended`,
        );
      if (p.legalBasis !== "consent")
        add(
          at("legalBasis"),
          `a purpose governed by the ${p.setting} setting is consent-based: set legalBasis to consent`,
        );
    }
    // Both sides of purpose <-> recipient agree.
    p.recipients.forEach((rid, k) => {
      const r = byRecipient.get(rid);
      if (r && !r.purposes.includes(p.id))
        add(
          at("recipients", k),
          `recipient "${rid}" does not list purpose "${p.id}": add it to the recipient's purposes`,
        );
    });
  });

  const byPurpose = new Map(m.purposes.map((p) => [p.id, p]));
  m.recipients.forEach((r, i) => {
    r.purposes.forEach((pid, k) => {
      const p = byPurpose.get(pid);
      if (p && !p.recipients.includes(r.id))
        add(
          ["recipients", i, "purposes", k],
          `purpose "${pid}" does not list recipient "${r.id}": add it to the purpose's recipients`,
        );
    });
    // A recipient receives only what its purposes use (minimisation).
    if (r.purposes.length === 0) return;
    const used = new Set(r.purposes.flatMap((pid) => byPurpose.get(pid)?.categories ?? []));
    r.categories.forEach((cid, k) => {
      if (byCategory.has(cid) && !used.has(cid))
        add(
          ["recipients", i, "categories", k],
          `no purpose of this recipient uses category "${cid}": remove it or add it to one of its purposes`,
        );
    });
  });

  // Every declared category is processed for some purpose.
  const usedByPurposes = new Set(m.purposes.flatMap((p) => p.categories));
  m.categories.forEach((c, i) => {
    if (!usedByPurposes.has(c.id))
      add(["categories", i, "id"], `no purpose uses category "${c.id}": add it to a purpose or remove it`);
  });

  return problems;
}

/** `purposes[3].legalBasis` */
export function formatPath(path: readonly (string | number | symbol)[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? String(seg) : `.${String(seg)}`;
  }
  return out;
}
