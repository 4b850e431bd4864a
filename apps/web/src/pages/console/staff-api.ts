import { apiSend } from "../center/account/account-api.ts";

/**
 * Writes for the staff console: the shared sender, so every unsafe request carries the CSRF token
 * (double-submit, from GET /api/v1/session/csrf) and the staff session cookie (HTTP-only, SameSite=Strict).
 */
export const staffPost = <T>(path: string, body?: unknown): Promise<T> => apiSend<T>("POST", path, body);

export const staffPut = <T>(path: string, body: unknown): Promise<T> => apiSend<T>("PUT", path, body);

export type StaffRole =
  | "admin"
  | "privacy-officer"
  | "children-officer"
  | "support-agent"
  | "security-analyst"
  | "auditor";

export const STAFF_ROLES: readonly StaffRole[] = [
  "admin",
  "privacy-officer",
  "children-officer",
  "support-agent",
  "security-analyst",
  "auditor",
];

export type TrainingStatus = {
  confidentialityAt: string | null;
  trainingAt: string | null;
  trainingExpiresAt: string | null;
  eligible: boolean;
  reason: string;
};

export type StaffMember = {
  id: string;
  email: string;
  displayName: string;
  role: StaffRole;
  status: "active" | "suspended";
  mfaEnrolled: boolean;
  mustChangePassword: boolean;
  createdAt: string;
  training: TrainingStatus;
};

export type Me = { staff: StaffMember; operations: string[] };

export type Grant = {
  id: string;
  staffId: string;
  scope: "subject-pi" | "children-pi" | "bulk-export";
  subjectId: string | null;
  categories: string[];
  purpose: string;
  justification: string;
  durationMinutes: number;
  status: "pending" | "approved" | "rejected" | "expired" | "revoked";
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  expiresAt: string | null;
};

export type MaskedSubject = {
  subjectId: string;
  grantId: string;
  purpose: string;
  expiresAt: string;
  categories: {
    category: string;
    grade: number;
    children: boolean;
    fields: { field: string; kind: string; value: string | null; visibility: string }[];
  }[];
};

/** The answer of POST /api/v1/staff/exports: values masked for the reader's role. */
export type BulkExport = {
  grantId: string;
  purpose: string;
  exportedAt: string;
  categories: string[];
  subjects: { subjectId: string; categories: Record<string, Record<string, string>> }[];
  skipped: { subjectId: string; reason: "not_found" | "children" }[];
};

export type AuditEvent = {
  id: number;
  occurredAt: string;
  actorType: string;
  actorId: string;
  action: string;
  subjectId: string | null;
  category: string | null;
  purpose: string | null;
  outcome: string;
  reason: string | null;
  batchId: number | null;
};

export const formatDateTime = (iso: string | null, lang: string) => {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(d);
};
