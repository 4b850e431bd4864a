import { createHash, randomBytes } from "node:crypto";
import {
  AppError,
  type Clock,
  can,
  isStaffRole,
  maskEmail,
  newId,
  type StaffOperation,
  type StaffRole,
  systemClock,
} from "@custos/core";
import {
  type AuditLedger,
  createStaffRepo,
  createStaffTrainingRepo,
  type DB,
  type StaffRow,
  type StaffTrainingRow,
  type Vault,
} from "@custos/store";
import argon2 from "argon2";
import type { Kysely } from "kysely";
import { generateSecret, generateURI, verify } from "otplib";

/**
 * Staff accounts (ACC-5): password (argon2id) plus TOTP, required for everyone. The first sign-in
 * enrols the authenticator (the secret is shown once and confirmed by a code); later sign-ins need a
 * code. Repeated failures lock the account for a while. Training records gate access (SEC-8).
 */

export const STAFF_SESSION_COOKIE = "custos_staff_session";
export const MFA_SESSION_MINUTES = 5;
export const STAFF_SESSION_HOURS = 8;
export const LOCKOUT_FAILURES = 5;
export const LOCKOUT_MINUTES = 15;
const TOTP_ISSUER = "Custos";
/** One time step either side, for clock drift. */
const TOTP_TOLERANCE_SECONDS = 30;

export type TrainingKind = "confidentiality" | "privacy-training";

export type TrainingStatus = {
  confidentialityAt: string | null;
  trainingAt: string | null;
  trainingExpiresAt: string | null;
  /** Both recorded and neither expired: grants may be given and used (SEC-8). */
  eligible: boolean;
  reason:
    | "ok"
    | "confidentiality_missing"
    | "training_missing"
    | "training_expired"
    | "confidentiality_expired";
};

export type StaffView = {
  id: string;
  email: string;
  displayName: string;
  role: StaffRole;
  status: "active" | "suspended";
  mfaEnrolled: boolean;
  /** Signed in with a one-time password that has not been replaced yet. */
  mustChangePassword: boolean;
  createdAt: string;
  training: TrainingStatus;
};

export type SignInResult =
  | { next: "enrol"; token: string; otpauthUri: string; secret: string }
  | { next: "code"; token: string };

const hashToken = (token: string) => createHash("sha256").update(token, "utf8").digest();

/** A readable one-time password: 20 characters from an unambiguous alphabet (≈ 100 bits). */
export function generatePassword(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const bytes = randomBytes(20);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

const EMAIL_RE = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

function invalid(field: string, message: string): AppError {
  return new AppError("validation_failed", { message, details: { field } });
}

export function checkPassword(password: string): void {
  if (password.length < 12 || password.length > 200)
    throw invalid("password", "The password must be 12 to 200 characters long. Choose a longer passphrase.");
}

function trainingStatus(rows: StaffTrainingRow[], now: Date): TrainingStatus {
  const latest = (kind: TrainingKind) =>
    rows
      .filter((r) => r.kind === kind)
      .sort((a, b) => b.completed_at.getTime() - a.completed_at.getTime())[0];
  const conf = latest("confidentiality");
  const training = latest("privacy-training");
  const expired = (r: StaffTrainingRow | undefined) =>
    r?.expires_at !== null && r?.expires_at !== undefined && r.expires_at.getTime() <= now.getTime();
  const reason: TrainingStatus["reason"] = !conf
    ? "confidentiality_missing"
    : expired(conf)
      ? "confidentiality_expired"
      : !training
        ? "training_missing"
        : expired(training)
          ? "training_expired"
          : "ok";
  return {
    confidentialityAt: conf?.completed_at.toISOString() ?? null,
    trainingAt: training?.completed_at.toISOString() ?? null,
    trainingExpiresAt: training?.expires_at?.toISOString() ?? null,
    eligible: reason === "ok",
    reason,
  };
}

export const TRAINING_MESSAGES: Record<Exclude<TrainingStatus["reason"], "ok">, string> = {
  confidentiality_missing:
    "No confidentiality agreement is recorded for this staff member; an administrator must record it before any access grant.",
  confidentiality_expired:
    "The confidentiality agreement on record has expired; an administrator must record a new one.",
  training_missing:
    "No privacy training is recorded for this staff member; an administrator must record it before any access grant.",
  training_expired:
    "The privacy training on record has expired, so access grants are suspended; complete the training again and have it recorded.",
};

type Deps = { db: Kysely<DB>; vault: Vault; clock?: Clock; ledger: AuditLedger };

export function createStaffService({ db, vault, clock = systemClock, ledger }: Deps) {
  const staff = createStaffRepo(db);
  const training = createStaffTrainingRepo(db);
  // A real argon2id hash to verify against when the email is unknown, so timing does not tell.
  let dummyHash: Promise<string> | undefined;

  async function toView(row: StaffRow, rows?: StaffTrainingRow[]): Promise<StaffView> {
    const email = await vault.openSystem(row.email_sealed);
    return {
      id: row.id,
      email: maskEmail(email),
      displayName: await vault.openSystem(row.name_sealed),
      role: row.role as StaffRole,
      status: row.status as "active" | "suspended",
      mfaEnrolled: row.mfa_enrolled_at !== null,
      mustChangePassword: row.must_change_password,
      createdAt: row.created_at.toISOString(),
      training: trainingStatus(rows ?? (await training.forStaff(row.id)), clock.now()),
    };
  }

  async function audit(
    actorId: string,
    action: "create" | "update" | "login",
    outcome: "allowed" | "denied",
    details: Record<string, string | number | boolean>,
    reason?: string,
  ) {
    await ledger.append(db, {
      actorType: actorId === "system" ? "system" : "staff",
      actorId,
      action,
      outcome,
      category: "staff-account",
      details,
      ...(reason ? { reason } : {}),
    });
  }

  const service = {
    /** Creates a staff account and returns its one-time password (shown once). */
    async create(input: {
      email: string;
      displayName: string;
      role: string;
      createdBy: string | null;
      password?: string;
    }): Promise<{ staff: StaffView; password: string }> {
      const email = input.email.trim();
      if (!EMAIL_RE.test(email) || email.length > 320)
        throw invalid("email", "The email address is not valid. Enter it as name@example.com.");
      const displayName = input.displayName.trim();
      if (displayName.length < 1 || displayName.length > 100)
        throw invalid("displayName", "The display name must be 1 to 100 characters.");
      if (!isStaffRole(input.role))
        throw invalid("role", "The role is not one of the staff roles; choose one from the list.");
      const password = input.password ?? generatePassword();
      checkPassword(password);
      const id = newId();
      const inserted = await staff.insert({
        id,
        emailIndex: await vault.blindIndex("staff-email", email.toLowerCase()),
        emailSealed: await vault.sealSystem(email),
        nameSealed: await vault.sealSystem(displayName),
        role: input.role,
        passwordHash: await argon2.hash(password, { type: argon2.argon2id }),
        createdBy: input.createdBy,
        now: clock.now(),
        // A generated password is one-time: it must be replaced at the first sign-in.
        mustChangePassword: input.password === undefined,
      });
      if (!inserted)
        throw new AppError("conflict", {
          message:
            "A staff account with this email already exists. Use another email or manage the existing account.",
          details: { field: "email" },
        });
      await audit(input.createdBy ?? "system", "create", "allowed", { staffId: id, role: input.role });
      const row = await staff.byId(id);
      if (!row) throw new Error("staff account vanished after insert");
      return { staff: await toView(row, []), password };
    },

    /** The first administrator (CLI). Refuses when an active admin exists unless `force`. */
    async createAdmin(input: { email: string; displayName: string; password?: string; force?: boolean }) {
      if (!input.force && (await staff.countActiveAdmins()) > 0)
        throw new AppError("conflict", {
          message:
            "An administrator already exists. Sign in as that administrator, or pass --force to add another.",
        });
      return service.create({ ...input, role: "admin", createdBy: null });
    },

    async list(): Promise<StaffView[]> {
      const [rows, allTraining] = await Promise.all([staff.list(), training.all()]);
      return Promise.all(
        rows.map((r) =>
          toView(
            r,
            allTraining.filter((t) => t.staff_id === r.id),
          ),
        ),
      );
    },

    async get(id: string): Promise<StaffView | undefined> {
      const row = await staff.byId(id);
      return row ? toView(row) : undefined;
    },

    async setStatus(actorId: string, id: string, status: "active" | "suspended"): Promise<StaffView> {
      if (actorId === id)
        throw new AppError("forbidden", { message: "You cannot change the status of your own account." });
      if (!(await staff.setStatus(id, status)))
        throw new AppError("not_found", { message: "No staff member with this id. List the staff first." });
      if (status === "suspended") await staff.revokeAllSessions(id, clock.now());
      await audit(actorId, "update", "allowed", { staffId: id, status });
      const view = await service.get(id);
      if (!view) throw new Error("staff account vanished");
      return view;
    },

    async trainingStatus(staffId: string): Promise<TrainingStatus> {
      return trainingStatus(await training.forStaff(staffId), clock.now());
    },

    async trainingRecords(staffId: string) {
      return (await training.forStaff(staffId)).map((r) => ({
        id: r.id,
        kind: r.kind,
        completedAt: r.completed_at.toISOString(),
        expiresAt: r.expires_at?.toISOString() ?? null,
        recordedBy: r.recorded_by,
      }));
    },

    /** Records a confidentiality agreement or privacy training (SEC-8). */
    async recordTraining(input: {
      staffId: string;
      kind: TrainingKind;
      completedAt: Date;
      expiresAt: Date | null;
      recordedBy: string;
    }) {
      const now = clock.now();
      if (input.completedAt.getTime() > now.getTime() + 60_000)
        throw invalid(
          "completedAt",
          "The completion date is in the future. Enter the date it was completed.",
        );
      if (input.expiresAt && input.expiresAt.getTime() <= input.completedAt.getTime())
        throw invalid("expiresAt", "The expiry date must be after the completion date.");
      if (input.kind === "privacy-training" && !input.expiresAt)
        throw invalid("expiresAt", "Privacy training needs an expiry date (when it must be repeated).");
      if (!(await staff.byId(input.staffId)))
        throw new AppError("not_found", { message: "No staff member with this id. List the staff first." });
      const row = await training.insert({ ...input, now });
      await audit(input.recordedBy, "update", "allowed", { staffId: input.staffId, training: input.kind });
      return row;
    },

    // Authentication

    /** Password step. Returns the next step and a short-lived token for the MFA step. */
    async signIn(emailInput: string, password: string): Promise<SignInResult> {
      const now = clock.now();
      const failed = () =>
        new AppError("unauthorized", {
          message: "The email or password is wrong. Check both and try again.",
          details: { reason: "bad_credentials" },
        });
      const email = emailInput.trim();
      const row =
        EMAIL_RE.test(email) && password.length <= 200
          ? await staff.byEmailIndex(await vault.blindIndex("staff-email", email.toLowerCase()))
          : undefined;
      if (!row) {
        dummyHash ??= argon2.hash(generatePassword(), { type: argon2.argon2id });
        await argon2.verify(await dummyHash, password.slice(0, 200));
        throw failed();
      }
      assertNotLocked(row, now);
      if (row.status !== "active")
        throw new AppError("forbidden", {
          message: "This staff account is suspended. Ask an administrator to reactivate it.",
          details: { reason: "suspended" },
        });
      if (!(await argon2.verify(row.password_hash, password))) {
        await service.noteFailure(row.id, "bad_password");
        throw failed();
      }
      const token = randomBytes(32).toString("base64url");
      await staff.insertSession({
        tokenHash: hashToken(token),
        staffId: row.id,
        stage: "mfa",
        now,
        expiresAt: new Date(now.getTime() + MFA_SESSION_MINUTES * 60_000),
      });
      if (row.mfa_enrolled_at) return { next: "code", token };
      const secret = generateSecret();
      await staff.setPendingTotp(row.id, await vault.sealSystem(secret));
      const label = await vault.openSystem(row.email_sealed);
      return {
        next: "enrol",
        token,
        secret,
        otpauthUri: generateURI({ issuer: TOTP_ISSUER, label, secret }),
      };
    },

    async noteFailure(staffId: string, reason: string): Promise<void> {
      const now = clock.now();
      const { locked } = await staff.recordFailure(
        staffId,
        LOCKOUT_FAILURES,
        new Date(now.getTime() + LOCKOUT_MINUTES * 60_000),
      );
      await audit(staffId, "login", "denied", { staffId, locked }, reason);
    },

    /** Second factor: confirms enrolment or checks the code; returns a full session token. */
    async verifyCode(mfaToken: string, code: string): Promise<{ token: string; staffId: string }> {
      const now = clock.now();
      const session = await staff.sessionByHash(hashToken(mfaToken));
      if (session?.stage !== "mfa" || session.revoked_at || session.expires_at <= now)
        throw new AppError("unauthorized", {
          message: "The sign-in step has expired. Start again with your email and password.",
          details: { reason: "mfa_session" },
        });
      const row = await staff.byId(session.staff_id);
      if (!row?.totp_secret_sealed || row.status !== "active")
        throw new AppError("unauthorized", { message: "Start again with your email and password." });
      assertNotLocked(row, now);
      const secret = await vault.openSystem(row.totp_secret_sealed);
      const wellFormed = /^\d{6}$/.test(code);
      const result = wellFormed
        ? await verify({
            secret,
            token: code,
            epoch: Math.floor(now.getTime() / 1000),
            epochTolerance: TOTP_TOLERANCE_SECONDS,
            ...(row.totp_last_step !== null ? { afterTimeStep: row.totp_last_step } : {}),
          })
        : { valid: false as const };
      // TOTP results carry the matched time step (the union type also covers HOTP).
      const step = result.valid && "timeStep" in result ? result.timeStep : undefined;
      if (step === undefined || !(await staff.acceptTotpStep(row.id, step, now))) {
        await service.noteFailure(row.id, "bad_code");
        throw new AppError("unauthorized", {
          message:
            "The code is wrong, expired or already used. Enter the current 6-digit code from your authenticator app.",
          details: { reason: "bad_code" },
        });
      }
      await staff.revokeSession(session.token_hash, now);
      const token = randomBytes(32).toString("base64url");
      await staff.insertSession({
        tokenHash: hashToken(token),
        staffId: row.id,
        stage: "active",
        now,
        expiresAt: new Date(now.getTime() + STAFF_SESSION_HOURS * 3_600_000),
      });
      await audit(row.id, "login", "allowed", { staffId: row.id });
      return { token, staffId: row.id };
    },

    /**
     * Replaces the password (the one-time one at first sign-in): the current password must be
     * right, the new one 12 to 200 characters and different. Other sessions are ended.
     */
    async changePassword(
      staffId: string,
      currentToken: string,
      current: string,
      next: string,
    ): Promise<void> {
      const row = await staff.byId(staffId);
      if (!row) throw new AppError("unauthorized", { message: "Sign in to the console first." });
      assertNotLocked(row, clock.now());
      if (!(await argon2.verify(row.password_hash, current.slice(0, 200)))) {
        await service.noteFailure(row.id, "bad_password");
        throw new AppError("validation_failed", {
          message: "The current password is wrong. Enter the password you signed in with.",
          details: { field: "current" },
        });
      }
      if (next.length < 12 || next.length > 200)
        throw invalid(
          "next",
          "The new password must be 12 to 200 characters long. Choose a longer passphrase.",
        );
      if (next === current)
        throw invalid("next", "The new password must differ from the current one. Choose a new passphrase.");
      await staff.replaceOneTimePassword(row.id, await argon2.hash(next, { type: argon2.argon2id }));
      const now = clock.now();
      // Every other session ends; this one stays signed in.
      const keep = hashToken(currentToken);
      await staff.revokeAllSessions(row.id, now, keep);
      await audit(row.id, "update", "allowed", { staffId: row.id, password: "changed" });
    },

    async signOut(token: string): Promise<void> {
      await staff.revokeSession(hashToken(token), clock.now());
    },

    /** The signed-in staff member for a session token, or undefined. */
    async authenticate(
      token: string | undefined,
    ): Promise<{ staffId: string; role: StaffRole; mustChangePassword: boolean } | undefined> {
      if (!token || token.length > 100) return undefined;
      const now = clock.now();
      const session = await staff.sessionByHash(hashToken(token));
      if (session?.stage !== "active" || session.revoked_at || session.expires_at <= now) return undefined;
      const row = await staff.byId(session.staff_id);
      if (row?.status !== "active" || !isStaffRole(row.role)) return undefined;
      return { staffId: row.id, role: row.role, mustChangePassword: row.must_change_password };
    },

    can(role: StaffRole, op: StaffOperation) {
      return can(role, op);
    },
  };
  return service;
}

function assertNotLocked(row: StaffRow, now: Date): void {
  if (row.locked_until && row.locked_until > now)
    throw new AppError("rate_limited", {
      message: `Too many failed attempts: this account is locked for ${LOCKOUT_MINUTES} minutes. Try again later or ask an administrator.`,
      details: { reason: "locked", retryAfter: row.locked_until.toISOString() },
    });
}

export type StaffService = ReturnType<typeof createStaffService>;
