import type { Language, Manifest } from "../schema.ts";
import {
  DATA_FORM,
  docDates,
  label,
  makeCtx,
  periodFrom,
  RECIPIENT_KIND,
  RELATIONSHIP,
  RETENTION_ACTION,
  regionLabel,
  retentionLabel,
  SENSITIVITY,
  SOURCE,
  STORAGE,
} from "./text.ts";

/** A named reference, already localised. */
export type NamedRef = { id: string; name: string };

export type PersonalInformationEntry = {
  id: string;
  name: string;
  description: string;
  items: string[];
  /** Purposes that use this category. */
  purposes: NamedRef[];
  sensitivity: "general" | "sensitive";
  sensitive: boolean;
  sensitivityLabel: string;
  /** PIPL 30: stated for every sensitive category. */
  necessity: string | null;
  impact: string | null;
  storage: "server" | "device-only";
  storageLabel: string;
  region: string | null;
  retention: {
    period: string;
    periodLabel: string;
    action: "delete" | "anonymise";
    actionLabel: string;
    /** The whole rule as one sentence, e.g. "6 months from collection, then anonymised". */
    summary: string;
  } | null;
  /** "Processed on the device only, never stored" or the retention summary. */
  retentionLabel: string;
  source: string;
  sourceLabel: string;
  children: boolean;
};

export type PersonalInformationList = {
  lang: Language;
  version: string;
  lastUpdated: string;
  title: string;
  categories: PersonalInformationEntry[];
};

export type ThirdPartyEntry = {
  id: string;
  name: string;
  company: string;
  kind: string;
  kindLabel: string;
  relationship: "entrusted" | "shared" | "joint";
  relationshipLabel: string;
  sdkPurposes: (NamedRef & { description: string })[];
  purposes: NamedRef[];
  categories: (NamedRef & { sensitive: boolean })[];
  region: string;
  dataForm: "identified" | "pseudonymised" | "anonymised";
  dataFormLabel: string;
  contact: string;
  privacyPolicyUrl: string | null;
  /** False when the recipient is switched off: nothing is disclosed to it. */
  enabled: boolean;
  statusLabel: string;
};

export type ThirdPartyList = {
  lang: Language;
  version: string;
  lastUpdated: string;
  title: string;
  recipients: ThirdPartyEntry[];
};

export const listTitles = {
  "personal-information": { en: "Collected Personal Information List", "zh-CN": "已收集个人信息清单" },
  "third-parties": {
    en: "List of Third Party Shared Personal Information",
    "zh-CN": "第三方共享个人信息清单",
  },
} as const;

/** The Collected Personal Information List as plain, localised data (for the web app). */
export function personalInformationList(manifest: Manifest, lang: Language): PersonalInformationList {
  const ctx = makeCtx(manifest, lang);
  const categories = manifest.categories.map((c): PersonalInformationEntry => {
    const rule = c.storage === "server" ? manifest.retention.find((r) => r.id === c.retention) : undefined;
    return {
      id: c.id,
      name: ctx.loc(c.name),
      description: ctx.loc(c.description),
      items: c.items.map(ctx.loc),
      purposes: manifest.purposes
        .filter((pu) => pu.categories.includes(c.id))
        .map((pu) => ({ id: pu.id, name: ctx.loc(pu.name) })),
      sensitivity: c.sensitivity,
      sensitive: c.sensitivity === "sensitive",
      sensitivityLabel: label(ctx, SENSITIVITY, c.sensitivity),
      necessity: c.necessity ? ctx.loc(c.necessity) : null,
      impact: c.impact ? ctx.loc(c.impact) : null,
      storage: c.storage,
      storageLabel: label(ctx, STORAGE, c.storage),
      region: c.storage === "server" ? regionLabel(ctx, c.region ?? defaultRegionId(manifest)) : null,
      retention: rule
        ? {
            period: rule.period,
            periodLabel: periodFrom(ctx, rule),
            action: rule.action,
            actionLabel: label(ctx, RETENTION_ACTION, rule.action),
            summary: retentionLabel(ctx, c),
          }
        : null,
      retentionLabel: retentionLabel(ctx, c),
      source: c.source,
      sourceLabel: label(ctx, SOURCE, c.source),
      children: c.children,
    };
  });
  return {
    lang,
    version: manifest.version,
    lastUpdated: docDates(manifest, "personal-information").lastUpdated,
    title: listTitles["personal-information"][lang],
    categories,
  };
}

/** The List of Third Party Shared Personal Information as plain, localised data (for the web app). */
export function thirdPartyList(manifest: Manifest, lang: Language): ThirdPartyList {
  const ctx = makeCtx(manifest, lang);
  const recipients = manifest.recipients.map((r): ThirdPartyEntry => {
    return {
      id: r.id,
      name: ctx.loc(r.name),
      company: ctx.loc(r.company),
      kind: r.kind,
      kindLabel: label(ctx, RECIPIENT_KIND, r.kind),
      relationship: r.relationship,
      relationshipLabel: label(ctx, RELATIONSHIP, r.relationship),
      sdkPurposes: r.sdkPurposes.map((id) => {
        const s = manifest.sdkPurposes.find((x) => x.id === id);
        return { id, name: s ? ctx.loc(s.name) : id, description: s ? ctx.loc(s.description) : "" };
      }),
      purposes: r.purposes.map((id) => {
        const pu = ctx.purpose(id);
        return { id, name: pu ? ctx.loc(pu.name) : id };
      }),
      categories: r.categories.map((id) => {
        const c = ctx.category(id);
        return { id, name: c ? ctx.loc(c.name) : id, sensitive: c?.sensitivity === "sensitive" };
      }),
      region: regionLabel(ctx, r.region),
      dataForm: r.dataForm,
      dataFormLabel: label(ctx, DATA_FORM, r.dataForm),
      contact: r.contact,
      privacyPolicyUrl: r.privacyPolicyUrl ?? null,
      enabled: r.enabled,
      statusLabel: r.enabled
        ? ctx.tr("Active", "使用中")
        : ctx.tr(
            "Switched off: no personal information is provided to this recipient",
            "已关闭：不再向该接收方提供任何个人信息",
          ),
    };
  });
  return {
    lang,
    version: manifest.version,
    lastUpdated: docDates(manifest, "third-parties").lastUpdated,
    title: listTitles["third-parties"][lang],
    recipients,
  };
}

function defaultRegionId(manifest: Manifest): string | undefined {
  return (manifest.regions.find((r) => r.default) ?? manifest.regions[0])?.id;
}
