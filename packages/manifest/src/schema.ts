import { z } from "zod";

/**
 * The privacy manifest: one YAML file that declares what the controller processes.
 * Everything else (rendered policy, decisions, rights fulfilment, retention, record of processing)
 * derives from it. See docs/manifest.md for a field-by-field guide.
 */

export const LANGUAGES = ["en", "zh-CN"] as const;
export type Language = (typeof LANGUAGES)[number];

const id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9-]*$/, "ids are lower-case kebab-case, starting with a letter (e.g. login-log)");

/** Text shown to people: every string exists in English and Simplified Chinese. */
export const LocalizedText = z.strictObject({
  en: z.string().min(1).max(4000),
  "zh-CN": z.string().min(1).max(4000),
});
export type LocalizedText = z.infer<typeof LocalizedText>;

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected a date as YYYY-MM-DD");
/** ISO 8601 duration such as P3Y, P6M, P30D, or the literal "account-lifetime". */
const retentionPeriod = z
  .string()
  .regex(
    /^(P(?=\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?|account-lifetime)$/,
    "expected an ISO 8601 duration such as P3Y or P180D, or account-lifetime",
  );

/** PIPL 13: consent, plus the six cases that need no consent. */
export const LEGAL_BASES = [
  "consent",
  "contract",
  "legal-obligation",
  "vital-interests",
  "public-interest-news",
  "publicly-disclosed",
  "other-law",
] as const;
export const NO_CONSENT_BASES = LEGAL_BASES.filter((b) => b !== "consent");
export const LegalBasisId = z.enum(LEGAL_BASES);
export type LegalBasisId = z.infer<typeof LegalBasisId>;

export const LegalBasis = z.strictObject({
  id: LegalBasisId,
  name: LocalizedText,
  description: LocalizedText,
  /** W3C DPV term, e.g. dpv:Consent, dpv:Contract. */
  dpv: z.string().max(120),
});

export const Region = z.strictObject({
  id,
  name: LocalizedText,
  /** ISO 3166-1 alpha-2 country code. */
  country: z
    .string()
    .regex(/^[A-Z]{2}$/, "expected an ISO 3166-1 alpha-2 country code in capitals, such as CN"),
  default: z.boolean().default(false),
});

export const RetentionRule = z.strictObject({
  id,
  name: LocalizedText,
  /** Retention group: each subject has one data key per group, so a group can be shredded alone. */
  group: id,
  period: retentionPeriod,
  /** When the period starts counting. */
  from: z.enum(["collection", "account-closure", "purpose-achieved", "last-activity", "event"]),
  action: z.enum(["delete", "anonymise"]),
  description: LocalizedText,
});

export const FIELD_KINDS = [
  "name",
  "phone",
  "email",
  "id-number",
  "address",
  "bank-card",
  "username",
  "password-hash",
  "device-id",
  "ip",
  "location",
  "date",
  "amount",
  "text",
  "image",
  "identifier",
  "other",
] as const;

export const CategoryField = z.strictObject({
  id,
  name: LocalizedText,
  /** The kind sets masking and blind indexing (SEC-2, SEC-1). */
  kind: z.enum(FIELD_KINDS),
  /** Equality lookups through a keyed blind index (email, phone, ID number). */
  lookup: z.boolean().default(false),
});

export const DataCategory = z
  .strictObject({
    id,
    name: LocalizedText,
    description: LocalizedText,
    /** Concrete items, as the policy lists them. */
    items: z.array(LocalizedText).min(1),
    sensitivity: z.enum(["general", "sensitive"]),
    /** Data classification (SEC-5): personal, personal-sensitive, children, device, log, transaction, content. */
    classification: z.enum([
      "identity",
      "contact",
      "account",
      "device",
      "log",
      "location",
      "content",
      "transaction",
      "service",
      "profile",
      "children",
      "guardian",
      "security",
    ]),
    /** Grade 1 (lowest) to 4 (highest): sets controls (masking, approval, logging). */
    grade: z.number().int().min(1).max(4),
    /** Identifies a person on its own (MAN-6). Device and log data do not, until combined. */
    identifying: z.boolean(),
    /** Where it is kept: on the server in a region, or only ever on the device (MAN-7). */
    storage: z.enum(["server", "device-only"]),
    region: id.optional(),
    retention: id.optional(),
    /** How it is collected. */
    source: z.enum(["user", "device", "generated", "third-party", "guardian"]),
    fields: z.array(CategoryField).default([]),
    /** Required for sensitive categories (PIPL 30). */
    necessity: LocalizedText.optional(),
    impact: LocalizedText.optional(),
    /** Applies only to children's accounts or guardians. */
    children: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if (c.sensitivity === "sensitive") {
      if (!c.necessity)
        ctx.addIssue({
          code: "custom",
          path: ["necessity"],
          message: "a sensitive category must state its necessity (PIPL 30)",
        });
      if (!c.impact)
        ctx.addIssue({
          code: "custom",
          path: ["impact"],
          message: "a sensitive category must state its impact on the person (PIPL 30)",
        });
    }
    if (c.storage === "server" && !c.retention)
      ctx.addIssue({
        code: "custom",
        path: ["retention"],
        message: "a category stored on the server needs a retention rule",
      });
    if (c.storage === "device-only" && c.fields.some((f) => f.lookup))
      ctx.addIssue({
        code: "custom",
        path: ["fields"],
        message: "device-only data has no server-side lookups",
      });
  });
export type DataCategory = z.infer<typeof DataCategory>;

export const Feature = z.strictObject({
  id,
  name: LocalizedText,
  /** Basic functions must keep working whatever extended purposes are refused (CON-6). */
  function: z.enum(["basic", "extended"]),
});

export const Purpose = z
  .strictObject({
    id,
    name: LocalizedText,
    description: LocalizedText,
    legalBasis: LegalBasisId,
    function: z.enum(["basic", "extended"]),
    categories: z.array(id).min(1),
    /** policy: covered by accepting the policy; separate: its own consent event (CON-4); none: no-consent basis. */
    consent: z.enum(["policy", "separate", "none"]),
    /** Why separate consent is needed, when it is. */
    separateReason: z
      .enum(["sensitive", "named-recipient", "public-disclosure", "cross-border", "new-purpose", "children"])
      .optional(),
    /** Runs while the app is in the background. */
    background: z.boolean().default(false),
    features: z.array(id).default([]),
    permissions: z.array(id).default([]),
    recipients: z.array(id).default([]),
    /** Personalisation switches (CON-8): a purpose governed by a setting denies when the setting is off. */
    setting: z.enum(["personalised-content", "personalised-ads"]).optional(),
    /** Automated decision-making with possible significant effect (RR-12). */
    automatedDecision: z.boolean().default(false),
    /** What the person loses by refusing. */
    refusalImpact: LocalizedText,
    /** W3C DPV purpose term. */
    dpv: z.string().max(120),
  })
  .superRefine((p, ctx) => {
    if (p.legalBasis === "consent" && p.consent === "none")
      ctx.addIssue({
        code: "custom",
        path: ["consent"],
        message: "a consent-based purpose needs consent: policy or separate",
      });
    if (p.legalBasis !== "consent" && p.consent !== "none")
      ctx.addIssue({
        code: "custom",
        path: ["consent"],
        message: `legal basis ${p.legalBasis} needs no consent: set consent to none`,
      });
    if (p.consent === "separate" && !p.separateReason)
      ctx.addIssue({
        code: "custom",
        path: ["separateReason"],
        message: "say why the consent is separate (sensitive, named-recipient, …)",
      });
  });
export type Purpose = z.infer<typeof Purpose>;

export const Permission = z.strictObject({
  id,
  name: LocalizedText,
  /** The purpose notice shown before the system prompt (CON-10). */
  notice: LocalizedText,
  /** Android permission names or platform equivalents. */
  platformNames: z.array(z.string().max(120)).default([]),
  categories: z.array(id).default([]),
  features: z.array(id).min(1),
  sensitive: z.boolean().default(false),
  refusalImpact: LocalizedText,
});

export const CookiePurpose = z.strictObject({
  id: z.enum(["identity", "analytics", "advertising"]),
  name: LocalizedText,
  description: LocalizedText,
  /** Necessary cookies cannot be switched off. */
  necessary: z.boolean(),
  categories: z.array(id).default([]),
});

export const SdkPurpose = z.strictObject({
  id,
  name: LocalizedText,
  description: LocalizedText,
});

export const Recipient = z.strictObject({
  id,
  name: LocalizedText,
  kind: z.enum(["sdk", "processor", "affiliate", "research", "logistics", "payment", "advertiser"]),
  company: LocalizedText,
  contact: z.string().max(300),
  /** Entrusted processing (on our behalf) or sharing (recipient decides). */
  relationship: z.enum(["entrusted", "shared", "joint"]),
  sdkPurposes: z.array(id).default([]),
  purposes: z.array(id).default([]),
  categories: z.array(id).min(1),
  region: id,
  /** Data leaves only de-identified or anonymised (research). */
  dataForm: z.enum(["identified", "pseudonymised", "anonymised"]).default("identified"),
  contractTerms: LocalizedText,
  assessment: z.strictObject({ date: isoDate, outcome: z.enum(["approved", "conditional", "rejected"]) }),
  /** Kill switch: false stops all disclosure to this recipient and refuses SDK start. */
  enabled: z.boolean().default(true),
  privacyPolicyUrl: z.string().url().max(500).optional(),
});
export type Recipient = z.infer<typeof Recipient>;

export const Affiliate = z.strictObject({
  id,
  name: LocalizedText,
  /** Binding shares only what the user authorises (SHR-3). */
  categories: z.array(id).min(1),
  purposes: z.array(id).min(1),
});

export const MarketingChannel = z.strictObject({
  id: z.enum(["sms", "email", "push", "social"]),
  name: LocalizedText,
  version: z.string().max(40),
  unsubscribe: LocalizedText,
  categories: z.array(id).default([]),
});

export const JustInTimeNotice = z.strictObject({
  id,
  kind: z.enum(["popup", "page-prompt"]),
  version: z.string().max(40),
  title: LocalizedText,
  body: LocalizedText,
  purposes: z.array(id).default([]),
  categories: z.array(id).default([]),
});

export const RIGHTS = [
  "access",
  "copy",
  "transfer",
  "correct",
  "supplement",
  "delete",
  "withdraw",
  "cancel-account",
  "explain-automated-decision",
  "complain",
  "deceased-relatives",
  "restrict",
  "object",
] as const;

export const Right = z.strictObject({
  id: z.enum(RIGHTS),
  name: LocalizedText,
  description: LocalizedText,
  /** Where it is exercised: privacy center path, or contact. */
  channel: z.enum(["privacy-center", "in-app", "contact"]),
  /** Rights that a guardian exercises for a child. */
  forChildren: z.boolean().default(true),
});

export const MaterialChangeKind = z.strictObject({
  id,
  name: LocalizedText,
  description: LocalizedText,
});

export const Children = z.strictObject({
  /** Under this age (in years, in the zone below) an account is a child's. */
  ageThreshold: z.number().int().min(1).max(18),
  adultAge: z.number().int().min(1).max(21),
  timeZone: z.string().max(64),
  /** Categories collected for real-name authentication. */
  realNameCategories: z.array(id).min(1),
  /** Categories collected from guardians for verification. */
  guardianCategories: z.array(id).min(1),
  proofKinds: z.array(z.strictObject({ id, name: LocalizedText })).min(1),
  /** Children's PI is sensitive as a whole; guardians consent separately. */
  guardianConsent: z.literal("separate"),
  /** Shown to guardians: login accounts, duration, consumption. */
  guardianVisibility: z
    .array(z.enum(["login-accounts", "login-duration", "consumption", "behaviour"]))
    .min(1),
  /** Role that approves staff access to children's PI (CHD-8). */
  accessApprover: z.enum([
    "admin",
    "privacy-officer",
    "children-officer",
    "support-agent",
    "security-analyst",
    "auditor",
  ]),
  /** Sharing outside the group requires guardian consent (CHD-9). */
  outsideGroupSharingNeedsGuardianConsent: z.boolean(),
  /** Reasons for deletion of a child's data (CHD-7). */
  deletionTriggers: z
    .array(z.enum(["guardian-withdraws", "violation", "beyond-purpose-or-period", "termination"]))
    .min(1),
  notes: z.array(LocalizedText).default([]),
});

export const IncidentPolicy = z.strictObject({
  channels: z.array(z.enum(["email", "letter", "phone", "push", "announcement"])).min(1),
  noticeContents: z.array(
    z.enum(["situation", "impact", "measures", "self-protection", "remedies", "contact"]),
  ),
  grades: z.array(z.strictObject({ id, name: LocalizedText })).length(4),
});

export const Document = z.strictObject({
  id: z.enum(["privacy-policy", "children-rules"]),
  title: LocalizedText,
  version: z.string().max(40),
  effectiveDate: isoDate,
  lastUpdated: isoDate,
});

export const Manifest = z.strictObject({
  manifestVersion: z.literal(1),
  /** The policy version this manifest is; rendered documents carry it. */
  version: z
    .string()
    .min(1)
    .max(40)
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._+-]*$/,
      "a version is letters, digits, dots, dashes, plus or underscores, starting with a letter or digit (e.g. 2024-03-26)",
    ),
  product: z.strictObject({ id, name: LocalizedText }),
  controller: z.strictObject({
    name: LocalizedText,
    address: LocalizedText,
    group: LocalizedText,
  }),
  contact: z.strictObject({
    email: z.string().email().max(200),
    department: LocalizedText,
    responseWorkingDays: z.number().int().min(1).max(60),
    /** Where to go when the reply does not satisfy, as verb phrases ("complain to …", "file a lawsuit with …"). */
    escalation: z.array(LocalizedText).min(1),
  }),
  documents: z.array(Document).min(1),
  legalBases: z.array(LegalBasis).length(LEGAL_BASES.length),
  regions: z.array(Region).min(1),
  crossBorder: z.strictObject({
    allowed: z.boolean(),
    requires: z.array(z.enum(["separate-consent", "mechanism", "assessment"])).default([]),
  }),
  retention: z.array(RetentionRule).min(1),
  categories: z.array(DataCategory).min(1),
  features: z.array(Feature).min(1),
  purposes: z.array(Purpose).min(1),
  permissions: z.array(Permission).default([]),
  cookies: z.array(CookiePurpose).default([]),
  sdkPurposes: z.array(SdkPurpose).default([]),
  recipients: z.array(Recipient).default([]),
  affiliates: z.array(Affiliate).default([]),
  marketingChannels: z.array(MarketingChannel).default([]),
  notices: z.array(JustInTimeNotice).default([]),
  rights: z.array(Right).min(1),
  materialChanges: z.array(MaterialChangeKind).default([]),
  children: Children,
  incidents: IncidentPolicy,
});
export type Manifest = z.infer<typeof Manifest>;
export type ManifestInput = z.input<typeof Manifest>;
