/**
 * Staff roles and what each may do (SEC-3, SEC-5, CHD-8). Pure rules, no I/O: the server's
 * `requireStaff(request, operation)` guard and the grant service ask these functions.
 *
 * Separation of duties:
 * - admin manages staff accounts, training records and configuration, but reads no personal
 *   information and cannot request access grants;
 * - auditor only reads and verifies logs (the audit ledger and the record of access grants);
 * - nobody approves their own grant; children's PI grants are approved only by the children's PI
 *   officer (CHD-8); bulk export needs an approved grant (SEC-3);
 * - nobody both manages staff and reads personal information.
 */

export const STAFF_ROLES = [
  "admin",
  "privacy-officer",
  "children-officer",
  "support-agent",
  "security-analyst",
  "auditor",
] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/** The closed list of staff operations. A route names exactly one (or a set of alternatives). */
export const STAFF_OPERATIONS = [
  "staff.manage",
  "staff.read",
  "training.record",
  "config.manage",
  "grant.request",
  "grant.read",
  "grant.approve",
  "grant.approve-children",
  "subject.read-masked",
  "subject.read-children",
  "subject.export-bulk",
  "audit.read",
  "audit.verify",
  "incident.manage",
  "request.handle",
  "manifest.publish",
  "outbox.read",
  /** Aggregate reports (counts and rates, never subject ids or personal information). */
  "report.read",
] as const;
export type StaffOperation = (typeof STAFF_OPERATIONS)[number];

const ROLE_OPERATIONS: Readonly<Record<StaffRole, readonly StaffOperation[]>> = {
  admin: ["staff.manage", "staff.read", "training.record", "config.manage", "outbox.read", "report.read"],
  "privacy-officer": [
    "staff.read",
    "training.record",
    "grant.request",
    "grant.read",
    "grant.approve",
    "subject.read-masked",
    "subject.export-bulk",
    "incident.manage",
    "request.handle",
    "manifest.publish",
    "report.read",
  ],
  "children-officer": [
    "staff.read",
    "grant.request",
    "grant.read",
    "grant.approve-children",
    "subject.read-masked",
    "subject.read-children",
    "request.handle",
  ],
  "support-agent": ["grant.request", "subject.read-masked", "request.handle"],
  "security-analyst": [
    "grant.request",
    "subject.read-masked",
    "audit.read",
    "audit.verify",
    "incident.manage",
    "outbox.read",
  ],
  auditor: ["grant.read", "audit.read", "audit.verify"],
};

export function isStaffRole(value: unknown): value is StaffRole {
  return typeof value === "string" && (STAFF_ROLES as readonly string[]).includes(value);
}

export function isStaffOperation(value: unknown): value is StaffOperation {
  return typeof value === "string" && (STAFF_OPERATIONS as readonly string[]).includes(value);
}

/** May a staff member with `role` perform `operation`? */
export function can(role: StaffRole, operation: StaffOperation): boolean {
  return ROLE_OPERATIONS[role]?.includes(operation) ?? false;
}

/** Every operation of a role, in the order of STAFF_OPERATIONS. */
export function operationsOf(role: StaffRole): StaffOperation[] {
  return STAFF_OPERATIONS.filter((op) => can(role, op));
}

/** Roles that may perform an operation (for messages saying who to ask). */
export function rolesThatCan(operation: StaffOperation): StaffRole[] {
  return STAFF_ROLES.filter((role) => can(role, operation));
}

export const GRANT_SCOPES = ["subject-pi", "children-pi", "bulk-export"] as const;
export type GrantScope = (typeof GRANT_SCOPES)[number];

/** Longest an access grant may last once approved (SEC-8). */
export const MAX_GRANT_MINUTES = 8 * 60;

/** The operation an approver needs for a grant of this scope (CHD-8: children's PI → children's officer). */
export function approverOperationFor(scope: GrantScope): StaffOperation {
  return scope === "children-pi" ? "grant.approve-children" : "grant.approve";
}

/** The operation a requester needs to use a grant of this scope. */
export function useOperationFor(scope: GrantScope): StaffOperation {
  if (scope === "children-pi") return "subject.read-children";
  if (scope === "bulk-export") return "subject.export-bulk";
  return "subject.read-masked";
}

export type Decision = { allowed: true } | { allowed: false; reason: string; message: string };

/** May `approver` decide on a grant that `requesterId` asked for, of `scope`? */
export function canDecideGrant(input: {
  approverId: string;
  approverRole: StaffRole;
  requesterId: string;
  scope: GrantScope;
}): Decision {
  if (input.approverId === input.requesterId)
    return {
      allowed: false,
      reason: "own_grant",
      message: "Nobody may approve or reject their own access grant; ask another approver.",
    };
  const op = approverOperationFor(input.scope);
  if (!can(input.approverRole, op))
    return {
      allowed: false,
      reason: "approver_role",
      message: `A ${input.scope} grant is decided only by a role with ${op} (${rolesThatCan(op).join(", ")}).`,
    };
  return { allowed: true };
}

/** May a staff member with `role` request a grant of `scope` (they must also be able to use it)? */
export function canRequestGrant(role: StaffRole, scope: GrantScope): Decision {
  if (!can(role, "grant.request"))
    return {
      allowed: false,
      reason: "role",
      message: `The ${role} role may not request access grants.`,
    };
  const use = useOperationFor(scope);
  if (!can(role, use))
    return {
      allowed: false,
      reason: "role",
      message: `A ${scope} grant is for roles with ${use} (${rolesThatCan(use).join(", ")}); the ${role} role does not have it.`,
    };
  return { allowed: true };
}

/** The manifest facts about a category that set its controls (SEC-5). */
export type CategoryGrade = { id: string; grade: number; children?: boolean };

export type CategoryControls = {
  grade: number;
  children: boolean;
  /** Shown to staff only desensitised (SEC-2); every category, whatever the grade. */
  masked: true;
  /** The category must be named in an access grant with a stated purpose (grade ≥ 3 or children's). */
  grantRequired: boolean;
  /** The grant must be approved by another person (grade 4 or children's; we approve every grant). */
  approvalRequired: boolean;
  /** Scope of grant that covers it. */
  scope: Exclude<GrantScope, "bulk-export">;
  /** Who approves: children's categories only the children's PI officer (CHD-8). */
  approverOperation: StaffOperation;
};

/**
 * Controls set by a category's grade (1 lowest, 4 highest) and children flag (SEC-5):
 * grade 1–2 is visible masked under any active grant for the subject; grade 3 must be named in the
 * grant with a purpose; grade 4 and children's categories also need approval (children's by the
 * children's PI officer). Every read is audited.
 */
export function controlsFor(category: CategoryGrade): CategoryControls {
  const children = category.children === true;
  const grade = Math.min(4, Math.max(1, Math.trunc(category.grade)));
  const scope = children ? "children-pi" : "subject-pi";
  return {
    grade,
    children,
    masked: true,
    grantRequired: grade >= 3 || children,
    approvalRequired: grade >= 4 || children,
    scope,
    approverOperation: approverOperationFor(scope),
  };
}

/** Field kinds of the manifest and how a role sees them in the console (SEC-2). */
export type FieldVisibility = "masked" | "hidden" | "plain";

const FREE_TEXT_KINDS = new Set(["text", "image", "other", "location"]);

/**
 * How `role` sees a field of `kind`: secrets are never shown; identifying values are masked with the
 * maskers; free text, media and positions only to the privacy and children's officers (masked to a
 * length marker); dates and amounts plainly to officers, hidden from others.
 */
export function fieldVisibility(role: StaffRole, kind: string): FieldVisibility {
  if (kind === "password-hash") return "hidden";
  const officer = role === "privacy-officer" || role === "children-officer";
  if (FREE_TEXT_KINDS.has(kind)) return officer ? "masked" : "hidden";
  if (kind === "date" || kind === "amount") return officer ? "plain" : "hidden";
  return "masked";
}
