import { createAccountRepo, createSubjectFieldRepo } from "@custos/store";
import argon2 from "argon2";
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { OidcProviderConfig } from "../src/accounts/oidc-config.ts";
import { buildTestApp, type TestApp } from "./helpers.ts";
import {
  type ConsentChoice,
  type CookieJar,
  driveProvider,
  type OidcFixture,
  startOidcProvider,
} from "./oidc-provider-fixture.ts";

const PUBLIC = "http://custos.test";
const callbackOf = (id: string) => `${PUBLIC}/api/v1/auth/oidc/${id}/callback`;

let fx: OidcFixture;
let t: TestApp;

function providerConfig(id: string, name: string): OidcProviderConfig {
  return {
    id,
    name: { en: name, "zh-CN": `${name}（测试）` },
    issuer: fx.issuer,
    clientId: fx.clientId,
    clientSecret: fx.clientSecret,
    scopes: ["openid", "email", "profile"],
    // email, name and birthdate are released by the provider but not mapped: never stored.
    claims: {
      sub: "third-party-login.external-id",
      preferred_username: "third-party-login.username",
      nickname: "third-party-login.nickname",
      picture: "third-party-login.avatar",
    },
  };
}

beforeAll(async () => {
  fx = await startOidcProvider({ redirectUris: [callbackOf("test-idp"), callbackOf("other-idp")] });
});
afterAll(async () => {
  await fx?.close();
});

async function app(): Promise<TestApp> {
  t = await buildTestApp({
    deps: {
      oidcProviders: [providerConfig("test-idp", "Test IdP"), providerConfig("other-idp", "Other IdP")],
    },
  });
  return t;
}
afterEach(async () => {
  await t?.close();
});

const cookieOf = (res: { cookies: { name: string; value: string }[] }, name: string) =>
  res.cookies.find((c) => c.name === name && c.value !== "")?.value;

async function policyVersion(): Promise<string> {
  const res = await t.app.inject({ method: "GET", url: "/api/v1/auth/oidc/providers" });
  return res.json().policyVersion;
}

/** Starts a flow, drives the provider's pages, and brings the browser back to our callback. */
async function flow(options: {
  provider?: string;
  choice: ConsentChoice;
  query?: Record<string, string>;
  session?: string;
  jar?: CookieJar;
  tamper?: (callback: URL) => URL;
}) {
  const provider = options.provider ?? "test-idp";
  const sessionCookie: Record<string, string> = options.session ? { custos_session: options.session } : {};
  const start = await t.app.inject({
    method: "GET",
    url: `/api/v1/auth/oidc/${provider}/start`,
    query: options.query ?? {},
    cookies: sessionCookie,
  });
  expect(start.statusCode, start.body).toBe(302);
  const flowCookie = cookieOf(start, "custos_oidc");
  expect(flowCookie).toBeDefined();
  const authUrl = String(start.headers.location);
  expect(authUrl.startsWith(fx.issuer)).toBe(true);
  let back = new URL(await driveProvider(authUrl, options.choice, options.jar));
  expect(back.origin).toBe(PUBLIC);
  if (options.tamper) back = options.tamper(back);
  const callback = await t.app.inject({
    method: "GET",
    url: `${back.pathname}${back.search}`,
    cookies: { custos_oidc: flowCookie ?? "", ...sessionCookie },
  });
  return {
    start,
    authUrl,
    flowCookie: flowCookie ?? "",
    back,
    callback,
    session: cookieOf(callback, "custos_session"),
  };
}

async function counts() {
  const db = t.database.db;
  const n = async (table: string) =>
    Number(
      (await sql<{ n: string }>`select count(*)::int as n from ${sql.table(table)}`.execute(db)).rows[0]?.n,
    );
  return {
    subjects: await n("subjects"),
    accounts: await n("accounts"),
    sessions: await n("sessions"),
    linked: await n("linked_identities"),
    fields: await n("subject_fields"),
  };
}

/** Every row of every table, as text, so a test can prove a value is stored nowhere in clear. */
async function dumpAllTables(): Promise<string> {
  const db = t.database.db;
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db);
  let out = "";
  for (const { table_name } of tables.rows) {
    const rows = await sql<{ row: string }>`select t::text as row from ${sql.table(table_name)} t`.execute(
      db,
    );
    out += rows.rows.map((r) => r.row).join("\n");
  }
  return out;
}

async function subjectOf(session: string): Promise<string> {
  const row = await sql<{
    subject_id: string;
  }>`select subject_id from sessions where method = 'oidc' order by created_at desc limit 1`.execute(
    t.database.db,
  );
  expect(session).toBeTruthy();
  return row.rows[0]?.subject_id ?? "";
}

describe("third-party sign-in with OpenID Connect", () => {
  it("ACC-2: the providers endpoint lists the approved providers and the policy version to accept", async () => {
    await app();
    const res = await t.app.inject({ method: "GET", url: "/api/v1/auth/oidc/providers" });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.providers.map((p: { id: string }) => p.id)).toEqual(["test-idp", "other-idp"]);
    expect(body.providers[0]).toEqual({
      id: "test-idp",
      name: { en: "Test IdP", "zh-CN": "Test IdP（测试）" },
      startUrl: "/api/v1/auth/oidc/test-idp/start",
    });
    expect(body.policyVersion).toBe(t.manifest.manifest.version);
    expect(JSON.stringify(body)).not.toContain(fx.clientSecret);
  });

  it("ACC-2: sign-in creates an account and stores only the claims the user authorised and the manifest maps", async () => {
    await app();
    const before = await counts();
    // The app asks for openid, email and profile; the user grants only openid and profile.
    const r = await flow({
      choice: { decision: "allow", scopes: ["openid", "profile"] },
      query: { acceptPolicy: await policyVersion(), returnTo: "/center/account" },
    });
    expect(r.callback.statusCode).toBe(302);
    expect(r.callback.headers.location).toBe("/center/account");
    expect(r.session).toBeDefined();
    // The URLs carry nothing but protocol parameters: no claim value ever appears in them.
    for (const value of Object.values(fx.user))
      for (const url of [r.authUrl, r.back.toString(), String(r.callback.headers.location)])
        expect(url).not.toContain(value);

    const after = await counts();
    expect(after.subjects - before.subjects).toBe(1);
    expect(after.accounts - before.accounts).toBe(1);
    expect(after.linked - before.linked).toBe(1);

    const subjectId = await subjectOf(r.session ?? "");
    const fields = await createSubjectFieldRepo(t.database.db, t.vault).getAll(subjectId);
    expect(fields).toEqual({
      "third-party-login": {
        "test-idp.external-id": fx.user.sub,
        "test-idp.username": fx.user.preferred_username,
        "test-idp.nickname": fx.user.nickname,
        "test-idp.avatar": fx.user.picture,
      },
    });
    const account = await createAccountRepo(t.database.db).get(subjectId);
    expect(account?.policyVersion).toBe(t.manifest.manifest.version);
    // The sign-in ended in AccountService.createSessionFor: recorded as a login by method oidc.
    const logins = await sql<{
      method: string;
    }>`select method from login_events where subject_id = ${subjectId}`.execute(t.database.db);
    expect(logins.rows.map((r) => r.method)).toEqual(["oidc"]);

    // Not authorised (email) and not mapped (name, birthdate): stored nowhere, and the stored ones are
    // ciphertext only, so no claim value appears in any table in clear.
    const dump = await dumpAllTables();
    for (const value of Object.values(fx.user)) expect(dump).not.toContain(value);

    // The session works, and the account lists the provider with the stored field names only.
    const mine = await t.app.inject({
      method: "GET",
      url: "/api/v1/me/providers",
      cookies: { custos_session: r.session ?? "" },
    });
    expect(mine.statusCode).toBe(200);
    expect(mine.json().providers).toEqual([
      expect.objectContaining({
        provider: "test-idp",
        storedFields: ["avatar", "external-id", "nickname", "username"],
      }),
    ]);
    expect(t.logs.join("\n")).not.toContain(fx.user.email);
  });

  it("ACC-2: a second sign-in finds the same subject, and stores only what is authorised this time", async () => {
    await app();
    const first = await flow({
      choice: { decision: "allow", scopes: ["openid", "profile"] },
      query: { acceptPolicy: await policyVersion() },
    });
    const subjectId = await subjectOf(first.session ?? "");
    const before = await counts();
    // Later the user signs in again (fresh provider session) and grants only openid; no policy
    // acceptance is needed for an existing account.
    const second = await flow({ choice: { decision: "allow", scopes: ["openid"] } });
    expect(second.callback.statusCode).toBe(302);
    expect(second.callback.headers.location).toBe("/center");
    expect(second.session).toBeDefined();
    expect(second.session).not.toBe(first.session);
    expect(await subjectOf(second.session ?? "")).toBe(subjectId);
    const after = await counts();
    expect(after.subjects).toBe(before.subjects);
    expect(after.accounts).toBe(before.accounts);
    expect(after.linked).toBe(before.linked);
    const fields = await createSubjectFieldRepo(t.database.db, t.vault).getAll(subjectId);
    expect(fields).toEqual({ "third-party-login": { "test-idp.external-id": fx.user.sub } });
  });

  it("ACC-2: a refused authorisation stores nothing and returns to sign-in with a message", async () => {
    await app();
    const before = await counts();
    const r = await flow({ choice: { decision: "deny" }, query: { acceptPolicy: await policyVersion() } });
    expect(r.back.searchParams.get("error")).toBe("access_denied");
    expect(r.callback.statusCode).toBe(302);
    expect(r.callback.headers.location).toBe("/center/account/sign-in?oidc=denied");
    expect(r.session).toBeUndefined();
    expect(await counts()).toEqual(before);
    // The flow cookie is cleared.
    expect(r.callback.cookies.find((c) => c.name === "custos_oidc")?.value).toBe("");
  });

  it("ACC-2: a new identity without accepting the policy is sent back to sign-in, nothing stored", async () => {
    await app();
    const before = await counts();
    const r = await flow({ choice: { decision: "allow", scopes: ["openid", "email", "profile"] } });
    expect(r.callback.headers.location).toBe("/center/account/sign-in?oidc=policy-required");
    expect(r.session).toBeUndefined();
    expect(await counts()).toEqual(before);
    // A stale policy version is refused before leaving for the provider.
    const stale = await t.app.inject({
      method: "GET",
      url: "/api/v1/auth/oidc/test-idp/start",
      query: { acceptPolicy: "0.0.0-old" },
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.message).toMatch(/policy changed/);
  });

  it("ACC-2: a state or nonce mismatch is refused and nothing is stored", async () => {
    await app();
    const version = await policyVersion();
    const before = await counts();
    const allow: ConsentChoice = { decision: "allow", scopes: ["openid", "profile"] };

    // 1. The state in the callback is not the one this browser started with.
    const tampered = await flow({
      choice: allow,
      query: { acceptPolicy: version },
      tamper: (u) => {
        u.searchParams.set("state", "forged-state-value");
        return u;
      },
    });
    expect(tampered.callback.headers.location).toBe("/center/account/sign-in?oidc=state-mismatch");

    // 2. No flow cookie at all (a callback URL carried over to another browser).
    const started = await t.app.inject({
      method: "GET",
      url: "/api/v1/auth/oidc/test-idp/start",
      query: { acceptPolicy: version },
    });
    const carried = new URL(await driveProvider(String(started.headers.location), allow));
    const replay = await t.app.inject({ method: "GET", url: `${carried.pathname}${carried.search}` });
    expect(replay.headers.location).toBe("/center/account/sign-in?oidc=expired");

    // 3. A code issued for another flow (other nonce and PKCE verifier) with this flow's cookie and
    //    state: the provider's answer does not belong to this flow and is refused.
    const startA = await t.app.inject({
      method: "GET",
      url: "/api/v1/auth/oidc/test-idp/start",
      query: { acceptPolicy: version },
    });
    const cookieA = cookieOf(startA, "custos_oidc") ?? "";
    const stateA = new URL(String(startA.headers.location)).searchParams.get("state") ?? "";
    const startB = await t.app.inject({
      method: "GET",
      url: "/api/v1/auth/oidc/test-idp/start",
      query: { acceptPolicy: version },
    });
    const backB = new URL(await driveProvider(String(startB.headers.location), allow));
    backB.searchParams.set("state", stateA);
    const mixed = await t.app.inject({
      method: "GET",
      url: `${backB.pathname}${backB.search}`,
      cookies: { custos_oidc: cookieA },
    });
    expect(mixed.statusCode).toBe(302);
    expect(String(mixed.headers.location)).toMatch(
      /^\/center\/account\/sign-in\?oidc=(failed|state-mismatch)$/,
    );
    expect(cookieOf(mixed, "custos_session")).toBeUndefined();

    // Nothing of any of these flows was stored.
    expect(await counts()).toEqual(before);
    // The refusals are logged by reason, without personal information.
    const logs = t.logs.join("\n");
    expect(logs).toContain("state_mismatch");
    for (const value of Object.values(fx.user)) expect(logs).not.toContain(value);
  });

  it("ACC-2: linking a provider to the signed-in account, and unlinking (never the last way to sign in)", async () => {
    await app();
    const version = await policyVersion();
    const first = await flow({
      choice: { decision: "allow", scopes: ["openid", "profile"] },
      query: { acceptPolicy: version },
    });
    const session = first.session ?? "";
    const subjectId = await subjectOf(session);

    // Linking needs a signed-in account, and a fresh verification (ACC-4).
    const anonymous = await t.app.inject({
      method: "GET",
      url: "/api/v1/auth/oidc/other-idp/start?mode=link",
    });
    expect(anonymous.statusCode).toBe(401);
    const stale = await t.app.inject({
      method: "GET",
      url: "/api/v1/auth/oidc/other-idp/start?mode=link",
      cookies: { custos_session: session },
    });
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error.details.reason).toBe("reauth_required");
    // Verifying again by signing in again at the linked provider makes the session fresh.
    const reauth = await flow({
      choice: { decision: "allow", scopes: ["openid", "profile"] },
      query: { mode: "reauth" },
      session,
    });
    expect(new URL(reauth.authUrl).searchParams.get("prompt")).toBe("login");
    expect(reauth.callback.headers.location).toBe("/center/account/security?oidc=verified");

    const link = await flow({
      provider: "other-idp",
      choice: { decision: "allow", scopes: ["openid", "profile"] },
      query: { mode: "link", returnTo: "/center/account/security" },
      session,
    });
    expect(link.callback.headers.location).toBe("/center/account/security?oidc=linked");
    const listed = await t.app.inject({
      method: "GET",
      url: "/api/v1/me/providers",
      cookies: { custos_session: session },
    });
    expect(
      listed
        .json()
        .providers.map((p: { provider: string }) => p.provider)
        .sort(),
    ).toEqual(["other-idp", "test-idp"]);
    const fields = await createSubjectFieldRepo(t.database.db, t.vault).getAll(subjectId);
    expect(
      Object.keys(fields["third-party-login"] ?? {}).filter((f) => f.startsWith("other-idp.")),
    ).toHaveLength(4);

    // The same identity cannot be linked to a second account.
    const second = await flow({
      provider: "other-idp",
      choice: { decision: "allow", scopes: ["openid"] },
      query: { acceptPolicy: version },
    });
    expect(second.callback.headers.location).toBe("/center");
    expect(await subjectOf(second.session ?? "")).toBe(subjectId);

    const csrf = await t.app.inject({ method: "GET", url: "/api/v1/session/csrf" });
    const token = csrf.json().token as string;
    const del = (provider: string) =>
      t.app.inject({
        method: "DELETE",
        url: `/api/v1/me/providers/${provider}`,
        cookies: { custos_session: session, custos_csrf: token },
        headers: { "x-csrf-token": token, origin: PUBLIC },
      });

    expect((await del("other-idp")).statusCode).toBe(204);
    const afterUnlink = await createSubjectFieldRepo(t.database.db, t.vault).getAll(subjectId);
    expect(Object.keys(afterUnlink["third-party-login"] ?? {}).some((f) => f.startsWith("other-idp."))).toBe(
      false,
    );
    expect((await del("other-idp")).statusCode).toBe(404);

    // The last way to sign in of an account without a password stays.
    const last = await del("test-idp");
    expect(last.statusCode).toBe(409);
    expect(last.json().error.message).toMatch(/Set a password first/);
    expect((await counts()).linked).toBe(1);

    // With a password, it can go, and its claims go with it.
    await createAccountRepo(t.database.db).setPasswordHash(
      subjectId,
      await argon2.hash("A-long-test-passphrase-1", { type: argon2.argon2id }),
      new Date(),
    );
    expect((await del("test-idp")).statusCode).toBe(204);
    expect(await createSubjectFieldRepo(t.database.db, t.vault).getAll(subjectId)).toEqual({});
    expect((await counts()).linked).toBe(0);
  });

  it("ACC-2: an identity already linked to another account is not linked again", async () => {
    await app();
    const version = await policyVersion();
    const a = await flow({
      choice: { decision: "allow", scopes: ["openid"] },
      query: { acceptPolicy: version },
    });
    const subjectA = await subjectOf(a.session ?? "");
    // A second account, signed in through the other provider with the same person at the provider.
    const b = await flow({
      provider: "other-idp",
      choice: { decision: "allow", scopes: ["openid"] },
      query: { acceptPolicy: version },
    });
    const subjectB = await subjectOf(b.session ?? "");
    expect(subjectB).not.toBe(subjectA);
    // B cannot use test-idp to verify again: that identity is not linked to B.
    const notMine = await flow({
      provider: "test-idp",
      choice: { decision: "allow", scopes: ["openid"] },
      query: { mode: "reauth" },
      session: b.session ?? "",
    });
    expect(notMine.callback.headers.location).toBe("/center/account/security?oidc=not-linked");
    await flow({
      provider: "other-idp",
      choice: { decision: "allow", scopes: ["openid"] },
      query: { mode: "reauth" },
      session: b.session ?? "",
    });
    const before = await counts();
    const link = await flow({
      provider: "test-idp",
      choice: { decision: "allow", scopes: ["openid"] },
      query: { mode: "link" },
      session: b.session ?? "",
    });
    expect(link.callback.headers.location).toBe("/center/account/security?oidc=already-linked");
    expect(await counts()).toEqual(before);
  });

  it("ACC-2: an unknown provider answers 404 and a foreign returnTo is refused", async () => {
    await app();
    for (const url of ["/api/v1/auth/oidc/nope/start", "/api/v1/auth/oidc/nope/callback?code=x&state=y"]) {
      const res = await t.app.inject({ method: "GET", url });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe("not_found");
      expect(res.json().error.message).toContain("/api/v1/auth/oidc/providers");
    }
    const bad = await t.app.inject({ method: "GET", url: "/api/v1/auth/oidc/Bad_Id/start" });
    expect(bad.statusCode).toBe(400);
    for (const returnTo of [
      "https://evil.example/center",
      "//evil.example/center",
      "/center/\\evil",
      "/console",
    ]) {
      const res = await t.app.inject({
        method: "GET",
        url: "/api/v1/auth/oidc/test-idp/start",
        query: { returnTo },
      });
      expect(res.statusCode, returnTo).toBe(400);
      expect(res.json().error.message).toMatch(/returnTo/);
    }
  });
});
