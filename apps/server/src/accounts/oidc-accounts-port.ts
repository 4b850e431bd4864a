import type { FastifyReply, FastifyRequest } from "fastify";
import { currentSubject, requireFresh, startSession } from "./guards.ts";

/**
 * What the OpenID Connect routes need from subject accounts (ACC-1/ACC-4). The default is built on
 * accounts/guards.ts: `startSession` (AccountService.createSessionFor: login log, new-device alert,
 * session cookie), `currentSubject`, `requireFresh` and the session service's `markFresh`.
 * Tests or another deployment can pass their own through `createApp({ oidcAccounts })`.
 */
export type OidcAccountsPort = {
  /** Ends a successful third-party sign-in: a session for `subjectId` and its cookie on `reply`. */
  signIn(request: FastifyRequest, reply: FastifyReply, subjectId: string): Promise<void>;
  /** The subject signed in on this request, or undefined (the caller decides about 401). */
  currentSubject(request: FastifyRequest): Promise<{ subjectId: string; sessionId: string } | undefined>;
  /** Throws 403 `reauth_required` unless the session was verified again recently (ACC-4). */
  requireFresh(request: FastifyRequest): Promise<void>;
  /** Records a fresh verification on the session (a re-authentication at a linked provider). */
  markFresh(request: FastifyRequest, sessionId: string): Promise<void>;
};

export const guardsAccountsPort: OidcAccountsPort = {
  async signIn(request, reply, subjectId) {
    await startSession(request, reply, subjectId, "oidc");
  },
  async currentSubject(request) {
    const ctx = await currentSubject(request);
    return ctx ? { subjectId: ctx.subjectId, sessionId: ctx.sessionId } : undefined;
  },
  async requireFresh(request) {
    const ctx = await currentSubject(request);
    if (ctx) requireFresh(request, ctx);
  },
  async markFresh(request, sessionId) {
    const { sessions, reauthMinutes } = request.server.custosAccounts;
    await sessions.markFresh(sessionId, reauthMinutes);
  },
};
