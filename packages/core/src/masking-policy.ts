import { maskAddress, maskBankCard, maskEmail, maskIdNumber, maskName, maskPhone } from "./maskers.ts";
import { can, controlsFor, type GrantScope, type StaffRole } from "./permissions.ts";

/**
 * Declarative desensitisation (SEC-2, SEC-5): what a staff role sees of each personal field is
 * decided from the manifest's categories (grade, children flag, field kinds), the role's duties
 * and the access grants the person holds — never by the page that shows it. Applied server-side
 * (`maskRecord`) before a record leaves the server; exports to third parties go through
 * `maskForRecipient`.
 *
 * Per field:
 * - hidden: the role reads no personal information (admin, auditor), a children's category
 *   without the children's PI duty, a grade 3–4 category not named in an approved grant, a field
 *   the manifest does not declare, or a password hash;
 * - clear: only grade 1–2, only for roles that handle people's requests (privacy officer,
 *   children's PI officer, support agent), only under an approved, unexpired grant naming the
 *   category (and the subject);
 * - masked otherwise, with the masker for the field's kind.
 */

/** The manifest facts the policy reads; `Manifest` from @custos/manifest fits it. */
export type MaskingManifest = {
  categories: readonly {
    id: string;
    grade: number;
    children?: boolean;
    fields: readonly { id: string; kind: string }[];
  }[];
  recipients?: readonly {
    id: string;
    categories: readonly string[];
    dataForm?: "identified" | "pseudonymised" | "anonymised";
    enabled?: boolean;
  }[];
};

/** An access grant as the grant service keeps it. */
export type MaskingGrant = {
  scope: GrantScope;
  status: string;
  categories: readonly string[];
  /** The subject it covers; absent for bulk export. */
  subjectId?: string | null;
  expiresAt?: Date | null;
};

export type MaskingViewer = {
  role: StaffRole;
  grants?: readonly MaskingGrant[];
  /** When the decision is made (grant expiry). Default: now. */
  now?: Date;
};

export type MaskerName = "phone" | "id-number" | "name" | "email" | "address" | "bank-card" | "generic";

export type FieldDecision =
  | { mode: "hidden"; reason: string }
  | { mode: "masked"; masker: MaskerName }
  | { mode: "clear" };

/** Roles that handle people's requests and may, under a grant, see low-grade fields in clear. */
const CLEAR_ROLES: readonly StaffRole[] = ["privacy-officer", "children-officer", "support-agent"];
const MAX_CLEAR_GRADE = 2;

/** Any other kind: first and last character kept, at most, and never more than a third. */
export function maskGeneric(value: string): string {
  const chars = Array.from(value.trim());
  if (chars.length <= 3) return "*".repeat(Math.max(chars.length, 1));
  if (chars.length < 6) return `${chars[0]}${"*".repeat(chars.length - 1)}`;
  return `${chars[0]}${"*".repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}

const MASKERS: Record<MaskerName, (value: string) => string> = {
  phone: maskPhone,
  "id-number": maskIdNumber,
  name: maskName,
  email: maskEmail,
  address: maskAddress,
  "bank-card": maskBankCard,
  generic: maskGeneric,
};

export function maskerFor(kind: string): MaskerName {
  switch (kind) {
    case "phone":
    case "id-number":
    case "name":
    case "email":
    case "address":
    case "bank-card":
      return kind;
    default:
      return "generic";
  }
}

export function applyMasker(masker: MaskerName, value: string): string {
  return MASKERS[masker](value);
}

function grantCovers(grant: MaskingGrant, categoryId: string, subjectId: string | undefined, now: Date) {
  if (grant.status !== "approved") return false;
  if (grant.scope === "bulk-export") return false;
  if (grant.expiresAt && grant.expiresAt.getTime() <= now.getTime()) return false;
  if (subjectId !== undefined && grant.subjectId && grant.subjectId !== subjectId) return false;
  if (grant.subjectId && subjectId === undefined) return false;
  return grant.categories.includes(categoryId);
}

/** What `viewer` sees of field `fieldId` of category `categoryId` (of `subjectId`, when known). */
export function decideField(
  manifest: MaskingManifest,
  viewer: MaskingViewer,
  categoryId: string,
  fieldId: string,
  subjectId?: string,
): FieldDecision {
  const category = manifest.categories.find((c) => c.id === categoryId);
  const field = category?.fields.find((f) => f.id === fieldId);
  if (!category || !field) return { mode: "hidden", reason: "undeclared_field" };
  if (field.kind === "password-hash") return { mode: "hidden", reason: "secret" };
  if (!can(viewer.role, "subject.read-masked")) return { mode: "hidden", reason: "role" };
  const controls = controlsFor(category);
  if (controls.children && !can(viewer.role, "subject.read-children"))
    return { mode: "hidden", reason: "children" };
  const now = viewer.now ?? new Date();
  const granted = (viewer.grants ?? []).some((g) => grantCovers(g, categoryId, subjectId, now));
  if (controls.grantRequired && !granted) return { mode: "hidden", reason: "no_grant" };
  if (granted && controls.grade <= MAX_CLEAR_GRADE && CLEAR_ROLES.includes(viewer.role))
    return { mode: "clear" };
  return { mode: "masked", masker: maskerFor(field.kind) };
}

/** A subject's fields as `{ category: { field: value } }` (what SubjectFieldRepo.getAll returns). */
export type PersonalRecord = Readonly<Record<string, Readonly<Record<string, string>>>>;

/**
 * The record as `viewer` may see it: hidden fields (and categories left empty) are left out,
 * masked ones replaced by their masked form. Apply on the server, before serialising.
 */
export function maskRecord(
  manifest: MaskingManifest,
  viewer: MaskingViewer | StaffRole,
  record: PersonalRecord,
  subjectId?: string,
): Record<string, Record<string, string>> {
  const v: MaskingViewer = typeof viewer === "string" ? { role: viewer } : viewer;
  const out: Record<string, Record<string, string>> = {};
  for (const [categoryId, fields] of Object.entries(record)) {
    for (const [fieldId, value] of Object.entries(fields)) {
      const d = decideField(manifest, v, categoryId, fieldId, subjectId);
      if (d.mode === "hidden") continue;
      const bucket = out[categoryId] ?? {};
      bucket[fieldId] = d.mode === "clear" ? value : applyMasker(d.masker, value);
      out[categoryId] = bucket;
    }
  }
  return out;
}

/**
 * A record exported to a third party: only the categories the manifest says the recipient
 * receives; masked, unless the manifest marks the recipient as receiving identified data.
 * An unknown or disabled recipient receives nothing. Password hashes never leave.
 */
export function maskForRecipient(
  manifest: MaskingManifest,
  recipientId: string,
  record: PersonalRecord,
): Record<string, Record<string, string>> {
  const recipient = manifest.recipients?.find((r) => r.id === recipientId);
  if (!recipient || recipient.enabled === false) return {};
  const identified = recipient.dataForm === "identified";
  const out: Record<string, Record<string, string>> = {};
  for (const [categoryId, fields] of Object.entries(record)) {
    if (!recipient.categories.includes(categoryId)) continue;
    const category = manifest.categories.find((c) => c.id === categoryId);
    if (!category) continue;
    for (const [fieldId, value] of Object.entries(fields)) {
      const field = category.fields.find((f) => f.id === fieldId);
      if (!field || field.kind === "password-hash") continue;
      const bucket = out[categoryId] ?? {};
      bucket[fieldId] = identified ? value : applyMasker(maskerFor(field.kind), value);
      out[categoryId] = bucket;
    }
  }
  return out;
}
