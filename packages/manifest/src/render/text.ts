import type { DataCategory, Language, LocalizedText, Manifest, Purpose, Recipient } from "../schema.ts";
import type { Block, DocumentId, Inline, ListItem, Section, TableRow } from "./model.ts";

/** Picks the wording for one language. Every fixed string in the renderers goes through this. */
export type Tr = (en: string, zh: string) => string;

export type Ctx = {
  manifest: Manifest;
  lang: Language;
  tr: Tr;
  loc: (text: LocalizedText) => string;
  /** Joins a list the way the language does ("a, b and c" / "a、b和c"). */
  join: (items: readonly string[]) => string;
  /** Alternatives: "a, b or c" / "a、b或c". */
  joinOr: (items: readonly string[]) => string;
  category: (id: string) => DataCategory | undefined;
  purpose: (id: string) => Purpose | undefined;
  recipient: (id: string) => Recipient | undefined;
};

export function makeCtx(manifest: Manifest, lang: Language): Ctx {
  const tr: Tr = (en, zh) => (lang === "en" ? en : zh);
  const joinWith =
    (en: string, zh: string) =>
    (items: readonly string[]): string => {
      if (items.length === 0) return tr("none", "无");
      if (items.length === 1) return items[0] ?? "";
      const head = items.slice(0, -1).join(tr(", ", "、"));
      return `${head}${tr(en, zh)}${items[items.length - 1]}`;
    };
  const join = joinWith(" and ", "和");
  const joinOr = joinWith(" or ", "或");
  return {
    manifest,
    lang,
    tr,
    loc: (text) => text[lang],
    join,
    joinOr,
    category: (id) => manifest.categories.find((c) => c.id === id),
    purpose: (id) => manifest.purposes.find((p) => p.id === id),
    recipient: (id) => manifest.recipients.find((r) => r.id === id),
  };
}

// ---- block helpers -------------------------------------------------------------------------

export const p = (...text: Inline[]): Block => ({ kind: "paragraph", text });
export const hp = (highlight: boolean, ...text: Inline[]): Block => ({ kind: "paragraph", text, highlight });
export const ul = (items: (ListItem | string)[]): Block => ({
  kind: "list",
  items: items.map((i) => (typeof i === "string" ? { text: [i] } : i)),
});
export const ol = (items: (ListItem | string)[]): Block => ({
  kind: "list",
  ordered: true,
  items: items.map((i) => (typeof i === "string" ? { text: [i] } : i)),
});
export const li = (text: Inline[] | string, highlight = false, children?: ListItem[]): ListItem => ({
  text: typeof text === "string" ? [text] : text,
  ...(highlight ? { highlight } : {}),
  ...(children && children.length > 0 ? { children } : {}),
});
export const table = (headers: string[], rows: TableRow[], caption?: string): Block => ({
  kind: "table",
  headers,
  rows,
  ...(caption ? { caption } : {}),
});
export const row = (cells: string[], highlight = false): TableRow => ({
  cells,
  ...(highlight ? { highlight } : {}),
});
export const strong = (text: string): Inline => ({ text, strong: true });
export const docLink = (text: string, doc: DocumentId): Inline => ({ text, doc });
export const link = (text: string, href: string): Inline => ({ text, href });

export function section(
  id: string,
  heading: string,
  blocks: Block[],
  opts: { seedRef?: string | null; subsections?: Section[]; highlight?: boolean } = {},
): Section {
  return {
    id,
    seedRef: opts.seedRef ?? null,
    heading,
    blocks,
    subsections: (opts.subsections ?? []).map((s) => prefixIds(s, id)),
    ...(opts.highlight ? { highlight: true } : {}),
  };
}

function prefixIds(s: Section, parent: string): Section {
  if (s.id.startsWith(`${parent}--`)) return s;
  const id = `${parent}--${s.id}`;
  return { ...s, id, subsections: s.subsections.map((c) => prefixIds(c, id)) };
}

// ---- labels for manifest enums --------------------------------------------------------------

type Labels<K extends string> = Record<K, [string, string]>;
const pick = <K extends string>(labels: Labels<K>, key: K, lang: Language): string => {
  const pair = labels[key];
  return lang === "en" ? pair[0] : pair[1];
};

export const SENSITIVITY: Labels<DataCategory["sensitivity"]> = {
  general: ["General personal information", "一般个人信息"],
  sensitive: ["Sensitive personal information", "敏感个人信息"],
};
export const SOURCE: Labels<DataCategory["source"]> = {
  user: ["Provided by you", "由您主动提供"],
  device: ["Read from your device", "从您的设备读取"],
  generated: ["Generated while you use the service", "在您使用服务的过程中产生"],
  "third-party": ["Received lawfully from third parties", "由第三方依法提供"],
  guardian: ["Provided by the guardian", "由监护人提供"],
};
export const FUNCTION: Labels<Purpose["function"]> = {
  basic: ["Basic function", "基本功能"],
  extended: ["Extended function", "扩展功能"],
};
export const CONSENT: Labels<Purpose["consent"]> = {
  policy: ["Given by agreeing to this policy", "通过同意本政策作出"],
  separate: ["Asked for separately, on its own", "单独征求您的同意"],
  none: ["Not needed: another legal basis applies", "无需同意：适用其他合法性基础"],
};
export const SEPARATE_REASON: Labels<NonNullable<Purpose["separateReason"]>> = {
  sensitive: ["it uses sensitive personal information", "涉及敏感个人信息"],
  "named-recipient": ["the information goes to a named recipient", "信息将提供给特定接收方"],
  "public-disclosure": ["the information is made public", "信息将被公开"],
  "cross-border": ["the information leaves the country", "信息将出境"],
  "new-purpose": ["it is a purpose added after you agreed", "这是您同意后新增的目的"],
  children: ["it concerns a child's information", "涉及儿童个人信息"],
};
export const SETTING: Labels<NonNullable<Purpose["setting"]>> = {
  "personalised-content": ["Personalised content recommendations", "个性化内容推荐"],
  "personalised-ads": ["Personalised advertising", "个性化广告"],
};
export const STORAGE: Labels<DataCategory["storage"]> = {
  server: ["Stored on our servers", "存储于我们的服务器"],
  "device-only": ["Processed on the device only, never stored", "仅在设备本地处理，不会存储"],
};
export const RECIPIENT_KIND: Labels<Recipient["kind"]> = {
  sdk: ["Third-party SDK", "第三方SDK"],
  processor: ["Service provider", "服务提供商"],
  affiliate: ["Affiliate", "关联方"],
  research: ["Research institution", "研究机构"],
  logistics: ["Logistics company", "物流公司"],
  payment: ["Payment institution", "支付机构"],
  advertiser: ["Advertiser", "广告主"],
};
export const RELATIONSHIP: Labels<Recipient["relationship"]> = {
  entrusted: [
    "Entrusted processing (on our behalf and on our instructions)",
    "委托处理（代表我们并按我们的指示）",
  ],
  shared: ["Sharing (the recipient decides how it processes)", "共享（接收方自行决定处理方式）"],
  joint: ["Joint processing (decided together with us)", "共同处理（与我们共同决定）"],
};
export const DATA_FORM: Labels<Recipient["dataForm"]> = {
  identified: ["Identifiable", "可识别个人"],
  pseudonymised: ["De-identified", "去标识化"],
  anonymised: ["Anonymised (no longer personal information)", "匿名化（不再属于个人信息）"],
};
export const RETENTION_FROM: Labels<Manifest["retention"][number]["from"]> = {
  collection: ["from collection", "自收集之日起"],
  "account-closure": ["from the closure of the account", "自账号注销之日起"],
  "purpose-achieved": ["from when the purpose is achieved", "自处理目的实现之日起"],
  "last-activity": ["from the last activity", "自最后一次活动之日起"],
  event: ["from the event concerned", "自相关事件发生之日起"],
};
export const RETENTION_ACTION: Labels<Manifest["retention"][number]["action"]> = {
  delete: ["then deleted", "届满后删除"],
  anonymise: ["then anonymised", "届满后匿名化"],
};
export const RIGHT_CHANNEL: Labels<Manifest["rights"][number]["channel"]> = {
  "privacy-center": ["in the privacy center", "在个人信息服务平台"],
  "in-app": ["in the product's settings", "在产品设置中"],
  contact: ["by contacting us", "通过联系我们"],
};
export const GUARDIAN_VISIBILITY: Labels<Manifest["children"]["guardianVisibility"][number]> = {
  "login-accounts": ["the accounts used to log in", "登录的账号"],
  "login-duration": ["how long they were logged in", "登录时长"],
  consumption: ["purchases and top-ups", "消费和充值记录"],
  behaviour: ["how they behaved in the product", "在产品中的行为"],
};
export const DELETION_TRIGGER: Labels<Manifest["children"]["deletionTriggers"][number]> = {
  violation: [
    "we processed the child's information against the law or our agreement with you",
    "我们违反法律法规或与您的约定处理儿童个人信息",
  ],
  "beyond-purpose-or-period": [
    "we processed it beyond the stated purpose or for longer than needed",
    "我们超出目的范围或必要期限处理儿童个人信息",
  ],
  "guardian-withdraws": ["the guardian withdraws consent", "监护人撤回同意"],
  termination: [
    "the guardian or the child stops using the service, for example by closing the account",
    "监护人或儿童通过注销账号等方式终止使用服务",
  ],
};
export const INCIDENT_CHANNEL: Labels<Manifest["incidents"]["channels"][number]> = {
  email: ["email", "电子邮件"],
  letter: ["letter", "信函"],
  phone: ["phone call", "电话"],
  push: ["push notification", "推送通知"],
  announcement: ["public announcement", "公告"],
};
export const NOTICE_CONTENT: Labels<Manifest["incidents"]["noticeContents"][number]> = {
  situation: ["what happened", "事件的基本情况"],
  impact: ["what it may mean for you", "可能造成的影响"],
  measures: ["what we have done and will do", "我们已采取或将要采取的处置措施"],
  "self-protection": ["how you can protect yourself", "您可自主防范和降低风险的建议"],
  remedies: ["the remedies open to you", "对您的补救措施"],
  contact: ["how to reach us about it", "与我们联系的方式"],
};
export const CROSS_BORDER_REQUIRES: Labels<Manifest["crossBorder"]["requires"][number]> = {
  "separate-consent": ["your separate consent", "您的单独同意"],
  mechanism: [
    "a lawful transfer mechanism (standard contract or certification)",
    "合法的出境机制（标准合同或认证）",
  ],
  assessment: ["a security assessment", "安全评估"],
};

export const label = <K extends string>(ctx: Ctx, labels: Labels<K>, key: K): string =>
  pick(labels, key, ctx.lang);

/** P3Y → "3 years" / "3年"; account-lifetime → "while the account exists". */
export function periodLabel(ctx: Ctx, period: string): string {
  if (period === "account-lifetime") return ctx.tr("as long as the account exists", "账号存续期间");
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$/.exec(period);
  if (!m) return period;
  const units: [string | undefined, string, string, string][] = [
    [m[1], "year", "years", "年"],
    [m[2], "month", "months", "个月"],
    [m[3], "week", "weeks", "周"],
    [m[4], "day", "days", "天"],
  ];
  const parts = units
    .filter(([n]) => n !== undefined)
    .map(([n, one, many, zh]) => ctx.tr(`${n} ${n === "1" ? one : many}`, `${n}${zh}`));
  return parts.length === 0 ? period : ctx.tr(parts.join(" "), parts.join(""));
}

type Rule = Manifest["retention"][number];

/** "6 months from collection" / "自收集之日起6个月"; "as long as the account exists". */
export function periodFrom(ctx: Ctx, rule: Rule): string {
  const period = periodLabel(ctx, rule.period);
  if (rule.period === "account-lifetime") return period;
  return ctx.tr(
    `${period} ${label(ctx, RETENTION_FROM, rule.from)}`,
    `${label(ctx, RETENTION_FROM, rule.from)}${period}`,
  );
}

/** "3 years from collection, then deleted". */
export function retentionLabel(ctx: Ctx, category: DataCategory): string {
  if (category.storage === "device-only") return label(ctx, STORAGE, "device-only");
  const rule = ctx.manifest.retention.find((r) => r.id === category.retention);
  if (!rule) return ctx.tr("Not stated", "未说明");
  const en = `${periodFrom(ctx, rule)}, ${label(ctx, RETENTION_ACTION, rule.action)}`;
  return ctx.tr(
    en.charAt(0).toUpperCase() + en.slice(1),
    `${periodFrom(ctx, rule)}${rule.period === "account-lifetime" ? "" : "内"}保存，${label(ctx, RETENTION_ACTION, rule.action)}`,
  );
}

export function regionLabel(ctx: Ctx, regionId: string | undefined): string {
  if (!regionId) return ctx.tr("Not applicable", "不适用");
  const region = ctx.manifest.regions.find((r) => r.id === regionId);
  return region ? ctx.loc(region.name) : regionId;
}

export function defaultRegion(ctx: Ctx) {
  return ctx.manifest.regions.find((r) => r.default) ?? ctx.manifest.regions[0];
}

export const isSensitivePurpose = (ctx: Ctx, purpose: Purpose): boolean =>
  purpose.categories.some((id) => ctx.category(id)?.sensitivity === "sensitive");

export const categoryNames = (ctx: Ctx, ids: readonly string[]): string[] =>
  ids.map((id) => {
    const c = ctx.category(id);
    return c ? ctx.loc(c.name) : id;
  });

export const purposeNames = (ctx: Ctx, ids: readonly string[]): string[] =>
  ids.map((id) => {
    const x = ctx.purpose(id);
    return x ? ctx.loc(x.name) : id;
  });

export const legalBasisName = (ctx: Ctx, id: string): string => {
  const b = ctx.manifest.legalBases.find((x) => x.id === id);
  return b ? ctx.loc(b.name) : id;
};

/** The sentence stating a sensitive category's necessity and its impact on the person (PIPL 30). */
export function necessityAndImpact(ctx: Ctx, c: DataCategory): string {
  const parts: string[] = [];
  if (c.necessity) parts.push(`${ctx.tr("Why it is necessary: ", "必要性：")}${ctx.loc(c.necessity)}`);
  if (c.impact) parts.push(`${ctx.tr("Impact on you: ", "对您的影响：")}${ctx.loc(c.impact)}`);
  return parts.join(ctx.tr(" ", ""));
}

export function docDates(
  manifest: Manifest,
  docId: DocumentId,
): { lastUpdated: string; effectiveDate: string } {
  const own = manifest.documents.find((d) => d.id === docId);
  if (own) return { lastUpdated: own.lastUpdated, effectiveDate: own.effectiveDate };
  // Lists and the record derive from the whole manifest: they carry its latest date.
  const latest = [...manifest.documents].sort((a, b) => b.lastUpdated.localeCompare(a.lastUpdated))[0];
  return {
    lastUpdated: latest?.lastUpdated ?? "",
    effectiveDate: latest?.effectiveDate ?? "",
  };
}
