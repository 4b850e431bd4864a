import { timingSafeEqual } from "node:crypto";
import { AppError, type Clock } from "@custos/core";
import type { LoadedManifest } from "@custos/manifest";
import {
  createAccountRepo,
  createSubjectFieldRepo,
  createSubjectRepo,
  type Database,
  inTransaction,
  type Vault,
} from "@custos/store";
import * as oidc from "openid-client";
import { z } from "zod";
import {
  type OidcProviderConfig,
  THIRD_PARTY_LOGIN_CATEGORY,
  type ThirdPartyLoginField,
  targetField,
} from "./oidc-config.ts";
import { createLinkedIdentityRepo, type LinkedIdentity } from "./oidc-repo.ts";

/**
 * Sign-in with approved third-party OpenID Connect providers (ACC-2): authorization code flow with
 * PKCE, state and nonce (openid-client 6). The flow's secrets travel in a short-lived cookie sealed
 * by the vault, so nothing but the protocol's own parameters appears in URLs.
 *
 * Storage rule: of everything the provider returns (ID token and userinfo), only claims that
 *   1. the user authorised (the scope that releases a standard claim was granted), and
 *   2. the provider's configuration maps to a field of the manifest category `third-party-login`
 * are stored, encrypted as subject fields `third-party-login.<provider>.<field>`. The rest is dropped.
 * The provider's `sub` is kept only as a blind index to recognise the person next time.
 *
 * Policy acceptance for a new account: the sign-in page shows the current privacy policy version next
 * to the provider buttons and passes `acceptPolicy=<version>` when the person starts; that acceptance
 * is recorded on the account (accounts.policy_version) only when an account is actually created. A
 * new identity without it is sent back to the sign-in page (`oidc=policy-required`), nothing stored.
 */

export const OIDC_STATE_COOKIE = "custos_oidc";
export const OIDC_COOKIE_PATH = "/api/v1/auth/oidc";
export const SIGN_IN_PATH = "/center/account/sign-in";
const STATE_TTL_MS = 10 * 60_000;
const MAX_CLAIM_CHARS = 8192;
const BLIND_INDEX_KIND = "oidc-subject";

/** The `oidc=` message codes a page of the privacy center shows after a redirect. */
export const OIDC_MESSAGE_CODES = [
  "denied",
  "failed",
  "expired",
  "state-mismatch",
  "policy-required",
  "already-linked",
  "account-locked",
  "signed-out",
  "not-linked",
  "linked",
  "verified",
] as const;
export type OidcMessageCode = (typeof OIDC_MESSAGE_CODES)[number];

/** login: sign in (or create an account); link: attach to the signed-in account; reauth: verify again (ACC-4). */
export type OidcMode = "login" | "link" | "reauth";
export const OIDC_MODES = ["login", "link", "reauth"] as const;

/** Standard claims (OpenID Connect Core 5.4) and the scope that releases each. */
const SCOPE_OF_CLAIM: Record<string, string> = {
  email: "email",
  email_verified: "email",
  phone_number: "phone",
  phone_number_verified: "phone",
  address: "address",
};
for (const c of [
  "name",
  "family_name",
  "given_name",
  "middle_name",
  "nickname",
  "preferred_username",
  "profile",
  "picture",
  "website",
  "gender",
  "birthdate",
  "zoneinfo",
  "locale",
  "updated_at",
])
  SCOPE_OF_CLAIM[c] = "profile";

/** The flow state kept (sealed) in the cookie between start and callback. */
const FlowState = z.object({
  v: z.literal(1),
  provider: z.string().max(40),
  state: z.string().max(100),
  nonce: z.string().max(100),
  verifier: z.string().max(200),
  mode: z.enum(OIDC_MODES),
  returnTo: z.string().max(500),
  acceptPolicy: z.string().max(40).nullable(),
  locale: z.enum(["en", "zh-CN"]),
  subjectId: z.string().max(64).nullable(),
  startedAt: z.number(),
  expiresAt: z.number(),
});
type FlowState = z.infer<typeof FlowState>;

export type OidcCallbackOutcome =
  | {
      kind: "signed-in";
      subjectId: string;
      created: boolean;
      returnTo: string;
      /** For a new account: the policy version accepted on the sign-in page and its language. */
      accepted?: { policyVersion: string; locale: "en" | "zh-CN" };
    }
  | { kind: "linked"; subjectId: string; returnTo: string }
  | { kind: "verified"; subjectId: string; returnTo: string }
  | { kind: "refused"; code: OidcMessageCode; mode: OidcMode; returnTo: string };

export type OidcServiceDeps = {
  database: Database;
  vault: Vault;
  manifest: LoadedManifest;
  clock: Clock;
  providers: OidcProviderConfig[];
  publicUrl: string;
  /** Logs what went wrong in a failed callback: error codes only, never claim values. */
  log?: (event: { provider: string; reason: string }) => void;
};

const sameString = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** A relative path inside the privacy center; anything else (other origins, `//`, `\`) is refused. */
export function isSafeReturnTo(value: string): boolean {
  return (
    value.length <= 500 &&
    /^\/center(?:[/?#]|$)/.test(value) &&
    ![...value].some((c) => c === "\\" || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) &&
    !value.includes("//")
  );
}

const isLoopbackHttp = (url: URL) =>
  url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);

export function createOidcService(deps: OidcServiceDeps) {
  const { database, vault, manifest, clock, providers, publicUrl } = deps;
  const db = database.db;
  const byId = new Map(providers.map((p) => [p.id, p]));
  const policyVersion = () => manifest.manifest.version;
  const region =
    manifest.manifest.regions.find((r) => r.default)?.id ?? manifest.manifest.regions[0]?.id ?? "cn";

  const category = manifest.manifest.categories.find((c) => c.id === THIRD_PARTY_LOGIN_CATEGORY);
  const keyGroup = manifest.manifest.retention.find((r) => r.id === category?.retention)?.group;
  const manifestFields = new Set(category?.fields?.map((f) => f.id) ?? []);
  if (providers.length > 0) {
    if (!category || !keyGroup)
      throw new Error(
        `OpenID Connect providers are configured but the manifest has no stored category "${THIRD_PARTY_LOGIN_CATEGORY}"; declare it (with a retention rule) or remove CUSTOS_OIDC_PROVIDERS`,
      );
    for (const p of providers)
      for (const target of Object.values(p.claims))
        if (!manifestFields.has(targetField(target)))
          throw new Error(
            `OpenID Connect provider ${p.id} maps a claim to ${target}, which the manifest category ${THIRD_PARTY_LOGIN_CATEGORY} does not declare`,
          );
  }

  const discovered = new Map<string, Promise<oidc.Configuration>>();
  function configurationOf(p: OidcProviderConfig): Promise<oidc.Configuration> {
    let found = discovered.get(p.id);
    if (!found) {
      const issuer = new URL(p.issuer);
      found = oidc.discovery(
        issuer,
        p.clientId,
        undefined,
        oidc.ClientSecretPost(p.clientSecret),
        isLoopbackHttp(issuer) ? { execute: [oidc.allowInsecureRequests], timeout: 10 } : { timeout: 10 },
      );
      // A failed discovery is retried on the next attempt rather than cached.
      found.catch(() => discovered.delete(p.id));
      discovered.set(p.id, found);
    }
    return found;
  }

  const redirectUri = (p: OidcProviderConfig) => `${publicUrl}${OIDC_COOKIE_PATH}/${p.id}/callback`;

  function providerOrThrow(id: string): OidcProviderConfig {
    const p = byId.get(id);
    if (!p)
      throw new AppError("not_found", {
        message: `No sign-in provider "${id}" is configured. List the available ones at GET /api/v1/auth/oidc/providers.`,
      });
    return p;
  }

  async function seal(state: FlowState): Promise<string> {
    return (await vault.sealSystem(JSON.stringify(state))).toString("base64url");
  }

  async function open(cookie: string | undefined): Promise<FlowState | undefined> {
    if (!cookie || cookie.length > 4000) return undefined;
    try {
      const parsed = FlowState.safeParse(
        JSON.parse(await vault.openSystem(Buffer.from(cookie, "base64url"))),
      );
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** The authorised, mapped claims as manifest field → value; everything else is dropped here. */
  function authorisedClaims(
    p: OidcProviderConfig,
    claims: Record<string, unknown>,
    grantedScopes: Set<string>,
  ): Map<ThirdPartyLoginField, string> {
    const out = new Map<ThirdPartyLoginField, string>();
    for (const [claim, target] of Object.entries(p.claims)) {
      const needed = SCOPE_OF_CLAIM[claim];
      if (claim !== "sub" && needed !== undefined && !grantedScopes.has(needed)) continue;
      const raw = claims[claim];
      if (raw === undefined || raw === null || raw === "") continue;
      const value = typeof raw === "string" ? raw : JSON.stringify(raw);
      if (value.length > MAX_CLAIM_CHARS) continue;
      out.set(targetField(target), value);
    }
    return out;
  }

  return {
    policyVersion,

    list() {
      return providers.map((p) => ({ id: p.id, name: p.name }));
    },

    /** Begins a flow: the provider's authorization URL and the sealed state for the cookie. */
    async start(input: {
      provider: string;
      mode: OidcMode;
      returnTo: string | undefined;
      acceptPolicy: string | undefined;
      locale: "en" | "zh-CN";
      subjectId: string | undefined;
    }): Promise<{ url: string; cookie: string; maxAgeSeconds: number }> {
      const p = providerOrThrow(input.provider);
      const returnTo = input.returnTo ?? (input.mode === "login" ? "/center" : "/center/account/security");
      if (!isSafeReturnTo(returnTo))
        throw new AppError("validation_failed", {
          message:
            "returnTo must be a path inside the privacy center starting with /center (for example /center/account).",
          details: { issues: [{ field: "query.returnTo", message: "must be a relative /center path" }] },
        });
      if (input.acceptPolicy !== undefined && input.acceptPolicy !== policyVersion())
        throw new AppError("conflict", {
          message: `The privacy policy changed to version ${policyVersion()}. Reload the sign-in page, read the current policy and try again.`,
          details: { currentVersion: policyVersion() },
        });
      if (input.mode !== "login" && !input.subjectId)
        throw new AppError("unauthorized", {
          message:
            input.mode === "link"
              ? "Sign in first, then link a provider to your account."
              : "Sign in first; verifying again applies to the account you are signed in to.",
        });
      let configuration: oidc.Configuration;
      try {
        configuration = await configurationOf(p);
      } catch {
        deps.log?.({ provider: p.id, reason: "discovery_failed" });
        throw new AppError("internal", {
          message: `The sign-in provider ${p.name.en} cannot be reached right now. Try again later or use another way to sign in.`,
        });
      }
      const verifier = oidc.randomPKCECodeVerifier();
      const state: FlowState = {
        v: 1,
        provider: p.id,
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        verifier,
        mode: input.mode,
        returnTo,
        acceptPolicy: input.acceptPolicy ?? null,
        locale: input.locale,
        subjectId: input.mode === "login" ? null : (input.subjectId ?? null),
        startedAt: clock.now().getTime(),
        expiresAt: clock.now().getTime() + STATE_TTL_MS,
      };
      const url = oidc.buildAuthorizationUrl(configuration, {
        redirect_uri: redirectUri(p),
        scope: p.scopes.join(" "),
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        state: state.state,
        nonce: state.nonce,
        ui_locales: input.locale,
        // Verifying again means signing in again at the provider, not reusing its session.
        ...(input.mode === "reauth" ? { prompt: "login", max_age: "0" } : {}),
      });
      return { url: url.toString(), cookie: await seal(state), maxAgeSeconds: STATE_TTL_MS / 1000 };
    },

    /**
     * Completes a flow. Never throws for what the provider or the browser sent: every failure is a
     * `refused` outcome with a message code, and nothing is stored for it.
     */
    async callback(input: {
      provider: string;
      /** The full callback URL as received (code, state, iss or error). */
      currentUrl: URL;
      cookie: string | undefined;
      /** The subject signed in on this browser now, if any (needed for mode=link). */
      currentSubjectId: string | undefined;
    }): Promise<OidcCallbackOutcome> {
      const p = providerOrThrow(input.provider);
      const flow = await open(input.cookie);
      const refuse = (code: OidcMessageCode, reason?: string): OidcCallbackOutcome => {
        if (reason) deps.log?.({ provider: p.id, reason });
        const mode = flow?.mode ?? "login";
        return {
          kind: "refused",
          code,
          mode,
          returnTo: mode !== "login" && flow ? flow.returnTo : SIGN_IN_PATH,
        };
      };
      if (!flow || flow.provider !== p.id || flow.expiresAt < clock.now().getTime())
        return refuse("expired", "no_valid_state_cookie");
      const params = input.currentUrl.searchParams;
      const returnedState = params.get("state") ?? "";
      if (!sameString(returnedState, flow.state)) return refuse("state-mismatch", "state_mismatch");
      const error = params.get("error");
      if (error)
        return refuse(
          error === "access_denied" ? "denied" : "failed",
          `provider_error:${error.slice(0, 40)}`,
        );

      let claims: Record<string, unknown>;
      let granted: Set<string>;
      try {
        const configuration = await configurationOf(p);
        const tokens = await oidc.authorizationCodeGrant(configuration, input.currentUrl, {
          pkceCodeVerifier: flow.verifier,
          expectedState: flow.state,
          expectedNonce: flow.nonce,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims();
        if (!idClaims) return refuse("failed", "no_id_token");
        // A re-verification must be a sign-in that happened during this flow (allowing clock skew).
        if (
          flow.mode === "reauth" &&
          !(typeof idClaims.auth_time === "number" && idClaims.auth_time * 1000 >= flow.startedAt - 30_000)
        )
          return refuse("failed", "reauth_not_fresh");
        // Absent `scope` in the token response means the requested scopes were granted (RFC 6749 5.1).
        granted = new Set((tokens.scope ?? p.scopes.join(" ")).split(" ").filter(Boolean));
        const userinfo = await oidc.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
        claims = { ...userinfo, ...idClaims };
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        const reason = typeof code === "string" ? code.slice(0, 60) : "exchange_failed";
        return refuse(reason === "OAUTH_JWT_CLAIM_COMPARISON_FAILED" ? "state-mismatch" : "failed", reason);
      }
      const sub = claims.sub;
      if (typeof sub !== "string" || sub.length === 0 || sub.length > 255) return refuse("failed", "bad_sub");

      const values = authorisedClaims(p, claims, granted);
      const subjectHash = await vault.blindIndex(BLIND_INDEX_KIND, `${p.id}\n${sub}`);
      const now = clock.now();
      const group = keyGroup as string;

      const writeClaims = async (tx: typeof db, subjectId: string) => {
        const links = createLinkedIdentityRepo(tx);
        await links.removeClaimFields(subjectId, THIRD_PARTY_LOGIN_CATEGORY, p.id);
        const fields = createSubjectFieldRepo(tx, vault);
        for (const [field, value] of values)
          await fields.put({
            subjectId,
            category: THIRD_PARTY_LOGIN_CATEGORY,
            field: `${p.id}.${field}`,
            keyGroup: group,
            value,
          });
      };
      const claimFields = [...values.keys()].sort();
      const existing = await createLinkedIdentityRepo(db).findByIdentity(p.id, subjectHash);

      if (flow.mode === "reauth") {
        if (!flow.subjectId || input.currentSubjectId !== flow.subjectId)
          return refuse("signed-out", "reauth_without_session");
        if (existing?.subjectId !== flow.subjectId)
          return refuse("not-linked", "reauth_with_unlinked_identity");
        return { kind: "verified", subjectId: flow.subjectId, returnTo: flow.returnTo };
      }

      if (flow.mode === "link") {
        if (!flow.subjectId || input.currentSubjectId !== flow.subjectId)
          return refuse("signed-out", "link_without_session");
        if (existing && existing.subjectId !== flow.subjectId)
          return refuse("already-linked", "identity_linked_elsewhere");
        const mine = await createLinkedIdentityRepo(db).get(flow.subjectId, p.id);
        if (mine && !existing) return refuse("already-linked", "provider_linked_to_other_identity");
        const subjectId = flow.subjectId;
        await inTransaction(db, async (tx) => {
          await writeClaims(tx, subjectId);
          const links = createLinkedIdentityRepo(tx);
          if (existing) await links.recordLogin(subjectId, p.id, claimFields, now);
          else await links.insert({ subjectId, provider: p.id, subjectHash, claimFields, now });
        });
        return { kind: "linked", subjectId, returnTo: flow.returnTo };
      }

      if (existing) {
        const account = await createAccountRepo(db).get(existing.subjectId);
        if (account?.status !== "active") return refuse("account-locked", "account_not_active");
        await inTransaction(db, async (tx) => {
          await writeClaims(tx, existing.subjectId);
          await createLinkedIdentityRepo(tx).recordLogin(existing.subjectId, p.id, claimFields, now);
        });
        return { kind: "signed-in", subjectId: existing.subjectId, created: false, returnTo: flow.returnTo };
      }

      if (flow.acceptPolicy !== policyVersion()) return refuse("policy-required", "policy_not_accepted");
      const subjectId = await inTransaction(db, async (tx) => {
        const subject = await createSubjectRepo(tx).create({ region, now });
        await createAccountRepo(tx).create({
          subjectId: subject.subjectId,
          locale: flow.locale,
          policyVersion: policyVersion(),
          now,
        });
        await createLinkedIdentityRepo(tx).insert({
          subjectId: subject.subjectId,
          provider: p.id,
          subjectHash,
          claimFields,
          now,
        });
        await writeClaims(tx, subject.subjectId);
        return subject.subjectId;
      });
      return {
        kind: "signed-in",
        subjectId,
        created: true,
        returnTo: flow.returnTo,
        accepted: { policyVersion: policyVersion(), locale: flow.locale },
      };
    },

    /** The providers linked to a subject (no claim values). */
    async linked(
      subjectId: string,
    ): Promise<(LinkedIdentity & { name: OidcProviderConfig["name"] | undefined })[]> {
      const rows = await createLinkedIdentityRepo(db).listForSubject(subjectId);
      return rows.map((r) => ({ ...r, name: byId.get(r.provider)?.name }));
    },

    /**
     * Unlinks a provider and deletes the claims stored from it. Refuses to remove the last way to
     * sign in of an account without a password.
     */
    async unlink(subjectId: string, provider: string): Promise<void> {
      await inTransaction(db, async (tx) => {
        const links = createLinkedIdentityRepo(tx);
        const all = await links.listForSubject(subjectId);
        if (!all.some((l) => l.provider === provider))
          throw new AppError("not_found", {
            message: `Your account is not linked to a provider "${provider}". List your linked providers at GET /api/v1/me/providers.`,
          });
        const hasPassword = (await createAccountRepo(tx).getPasswordHash(subjectId)) !== undefined;
        if (all.length === 1 && !hasPassword)
          throw new AppError("conflict", {
            message:
              "This provider is the only way to sign in to your account. Set a password first (account security page), then unlink it.",
            details: { reason: "last_sign_in_method" },
          });
        await links.removeClaimFields(subjectId, THIRD_PARTY_LOGIN_CATEGORY, provider);
        await links.remove(subjectId, provider);
      });
    },
  };
}

export type OidcService = ReturnType<typeof createOidcService>;
