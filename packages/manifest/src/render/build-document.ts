import type { Language, Manifest } from "../schema.ts";
import { childrenRulesIntro, childrenRulesSections } from "./children-rules.ts";
import {
  personalInformationIntro,
  personalInformationSections,
  processingRecordIntro,
  processingRecordSections,
  thirdPartyIntro,
  thirdPartySections,
} from "./list-documents.ts";
import { listTitles } from "./lists.ts";
import { type Block, DOCUMENT_IDS, type DocModel, type DocumentId, type Section } from "./model.ts";
import { privacyPolicyIntro, privacyPolicySections } from "./privacy-policy.ts";
import { type Ctx, docDates, makeCtx } from "./text.ts";

const DEFAULT_TITLES: Record<DocumentId, (ctx: Ctx) => string> = {
  "privacy-policy": (ctx) =>
    ctx.tr(
      `${ctx.loc(ctx.manifest.product.name)} Privacy Policy`,
      `${ctx.loc(ctx.manifest.product.name)}隐私政策`,
    ),
  "children-rules": (ctx) =>
    ctx.tr(
      `${ctx.loc(ctx.manifest.product.name)} Children's Personal Information Protection Rules and Guardians' Notice`,
      `${ctx.loc(ctx.manifest.product.name)}儿童个人信息保护规则及监护人须知`,
    ),
  "personal-information": (ctx) => listTitles["personal-information"][ctx.lang],
  "third-parties": (ctx) => listTitles["third-parties"][ctx.lang],
  "processing-record": (ctx) => ctx.tr("Record of Processing Activities", "个人信息处理活动记录"),
};

const BUILDERS: Record<DocumentId, { intro: (ctx: Ctx) => Block[]; sections: (ctx: Ctx) => Section[] }> = {
  "privacy-policy": { intro: privacyPolicyIntro, sections: privacyPolicySections },
  "children-rules": { intro: childrenRulesIntro, sections: childrenRulesSections },
  "personal-information": { intro: personalInformationIntro, sections: personalInformationSections },
  "third-parties": { intro: thirdPartyIntro, sections: thirdPartySections },
  "processing-record": { intro: processingRecordIntro, sections: processingRecordSections },
};

export function isDocumentId(value: string): value is DocumentId {
  return (DOCUMENT_IDS as readonly string[]).includes(value);
}

/** The structured model of one rendered document; every output format is serialised from it. */
export function buildDocument(manifest: Manifest, docId: DocumentId, lang: Language): DocModel {
  if (!isDocumentId(docId))
    throw new RangeError(
      `Unknown document "${String(docId).slice(0, 64)}": use one of ${DOCUMENT_IDS.join(", ")}.`,
    );
  if (lang !== "en" && lang !== "zh-CN")
    throw new RangeError(`Unknown language "${String(lang).slice(0, 16)}": use "en" or "zh-CN".`);
  const ctx = makeCtx(manifest, lang);
  const own = manifest.documents.find((d) => d.id === docId);
  const dates = docDates(manifest, docId);
  const builder = BUILDERS[docId];
  return {
    id: docId,
    title: own ? ctx.loc(own.title) : DEFAULT_TITLES[docId](ctx),
    version: manifest.version,
    lang,
    lastUpdated: dates.lastUpdated,
    effectiveDate: dates.effectiveDate,
    sensitiveMarker: ctx.tr("Sensitive", "敏感"),
    labels: {
      version: ctx.tr("Version", "版本"),
      lastUpdated: ctx.tr("Last updated", "更新日期"),
      effectiveDate: ctx.tr("Effective", "生效日期"),
      contents: ctx.tr("Contents", "目录"),
      colon: ctx.tr(": ", "："),
    },
    intro: builder.intro(ctx),
    sections: builder.sections(ctx),
  };
}
