import { createHash, randomBytes } from "node:crypto";
import type { Clock } from "@custos/core";
import { type AccountDb, createSessionRepo, type SessionKind, type StoredSession } from "@custos/store";

/**
 * Sessions (ACC-1, ACC-6): an opaque random token, of which only the SHA-256 is stored; idle and
 * absolute expiry; fresh verification (ACC-4) as a `fresh_until` time on the session.
 */

export type SessionLimits = { idleMinutes: number; absoluteHours: number };

export const DEFAULT_SESSION_LIMITS: Record<SessionKind, SessionLimits> = {
  web: { idleMinutes: 60, absoluteHours: 12 },
  api: { idleMinutes: 24 * 60, absoluteHours: 30 * 24 },
};

/** How often at most last_seen_at is written (keeps reads cheap). */
const TOUCH_EVERY_MS = 60_000;

export type ActiveSession = StoredSession;

export function hashToken(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

type Deps = { db: AccountDb; clock: Clock; limits?: Partial<Record<SessionKind, SessionLimits>> };

export function createSessionService({ db, clock, limits }: Deps) {
  const sessions = createSessionRepo(db);
  const limitsFor = (kind: SessionKind) => limits?.[kind] ?? DEFAULT_SESSION_LIMITS[kind];

  return {
    /** Starts a session; returns the token (shown once, never stored). Pass `tx` inside a transaction. */
    async start(
      input: {
        id: string;
        subjectId: string;
        kind: SessionKind;
        method: string;
        deviceHash: Buffer;
        userAgentSummary: string;
      },
      tx: AccountDb = db,
    ): Promise<{ token: string; expiresAt: Date; idleExpiresAt: Date }> {
      const now = clock.now();
      const l = limitsFor(input.kind);
      const token = randomBytes(32).toString("base64url");
      const expiresAt = new Date(now.getTime() + l.absoluteHours * 3600_000);
      const idleExpiresAt = new Date(Math.min(expiresAt.getTime(), now.getTime() + l.idleMinutes * 60_000));
      await createSessionRepo(tx).insert({
        ...input,
        tokenSha256: hashToken(token),
        createdAt: now,
        lastSeenAt: now,
        idleExpiresAt,
        expiresAt,
      });
      return { token, expiresAt, idleExpiresAt };
    },

    /** The live session a token belongs to, touched; undefined when unknown, revoked or expired. */
    async authenticate(token: string): Promise<ActiveSession | undefined> {
      if (!TOKEN_RE.test(token)) return undefined;
      const s = await sessions.findByTokenHash(hashToken(token));
      const now = clock.now();
      if (!s || s.revokedAt || s.expiresAt <= now || s.idleExpiresAt <= now) return undefined;
      if (now.getTime() - s.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
        const l = limitsFor(s.kind);
        const idle = new Date(Math.min(s.expiresAt.getTime(), now.getTime() + l.idleMinutes * 60_000));
        await sessions.touch(s.id, now, idle);
        return { ...s, lastSeenAt: now, idleExpiresAt: idle };
      }
      return s;
    },

    list: (subjectId: string) => sessions.listLive(subjectId, clock.now()),
    revoke: (subjectId: string, id: string) => sessions.revoke(subjectId, id, clock.now()),
    revokeAll: (subjectId: string, exceptId?: string, tx: AccountDb = db) =>
      createSessionRepo(tx).revokeAll(subjectId, clock.now(), exceptId),
    async markFresh(sessionId: string, minutes: number): Promise<Date> {
      const until = new Date(clock.now().getTime() + minutes * 60_000);
      await sessions.setFreshUntil(sessionId, until);
      return until;
    },
  };
}
export type SessionService = ReturnType<typeof createSessionService>;
