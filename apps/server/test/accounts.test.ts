import { fixedClock } from "@custos/core";
import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  bearer,
  CHROME_LINUX,
  FIREFOX_WINDOWS,
  latestCode,
  login,
  newIp,
  outbox,
  register,
  setTick,
} from "./accounts-helpers.ts";
import { buildTestApp, type TestApp } from "./helpers.ts";

const clock = fixedClock("2025-03-03T08:00:00Z");
let t: TestApp;
let policyVersion: string;

beforeAll(async () => {
  t = await buildTestApp({ env: { CUSTOS_DEV: "1", TRUST_PROXY: "true" }, deps: { clock } });
  policyVersion = t.manifest.manifest.version;
  setTick(() => clock.advance(1000));
});

beforeEach(() => {
  clock.advance(1000);
});

afterAll(async () => {
  await t?.close();
});

const MINUTE = 60_000;

describe("registration (ACC-1)", () => {
  it("ACC-1: registers with an email, verified by a one-time code, then signs in by username, email and password", async () => {
    const r = await register(t.app, policyVersion, { contact: "Ann.Lee@Example.com", username: "Ann_Lee" });
    const me = await t.app.inject({ method: "GET", url: "/api/v1/me", headers: bearer(r.token) });
    expect(me.statusCode).toBe(200);
    const body = me.json() as {
      username: string;
      contacts: { kind: string; masked: string }[];
      status: string;
    };
    expect(body.username).toBe("ann_lee");
    expect(body.status).toBe("active");
    expect(body.contacts).toEqual([{ kind: "email", masked: expect.stringContaining("*"), verified: true }]);
    expect(JSON.stringify(body.contacts)).not.toContain("ann.lee@example.com");

    for (const identifier of ["ann_lee", "ANN_LEE", "ann.lee@example.com"]) {
      const res = await login(t.app, identifier, r.password);
      expect(res.statusCode, res.body).toBe(200);
      expect((res.json() as { token: string }).token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
  });

  it("ACC-1: registers with a mainland mobile number (code by SMS) and signs in with it", async () => {
    const r = await register(t.app, policyVersion, { contact: "+86 139-1234-5678", username: "phone_user" });
    const sms = (await outbox(t.app)).find((m) => m.channel === "sms" && m.template === "verification-code");
    expect(sms?.to).toBe("139****5678");
    const res = await login(t.app, "13912345678", r.password);
    expect(res.statusCode).toBe(200);
  });

  it("ACC-1: a web sign-up sets an HTTP-only, SameSite=Lax session cookie and no token", async () => {
    const start = await t.app.inject({
      method: "POST",
      url: "/api/v1/accounts/register",
      payload: {
        contact: "web.user@example.com",
        username: "web_user",
        password: "Web-User-Pass-1",
        policyVersion,
        acceptPolicy: true,
      },
    });
    expect(start.statusCode).toBe(202);
    const { verificationId } = start.json() as { verificationId: string };
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/accounts/register/verify",
      payload: { verificationId, code: await latestCode(t.app) },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).not.toHaveProperty("token");
    const cookie = res.cookies.find((c) => c.name === "custos_session");
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe("Lax");
    const me = await t.app.inject({
      method: "GET",
      url: "/api/v1/me",
      cookies: { custos_session: cookie?.value ?? "" },
    });
    expect(me.statusCode).toBe(200);
  });

  it("ACC-1: refuses bad input with a clear 400 naming the field, and creates nothing", async () => {
    const base = {
      contact: "someone@example.com",
      username: "someone",
      password: "Some-Pass-123",
      policyVersion,
      acceptPolicy: true,
    };
    const cases: [Record<string, unknown>, string][] = [
      [{ contact: "12812345678" }, "contact"],
      [{ username: "no spaces!" }, "username"],
      [{ password: "short" }, "password"],
      [{ password: "alllowercaseletters" }, "password"],
      [{ password: "xSomeone-2024" }, "password"],
      [{ policyVersion: "1999-01-01" }, "policyVersion"],
    ];
    const counts = async () =>
      (
        await sql<{ a: number; c: number }>`
          select (select count(*)::int from accounts) as a, (select count(*)::int from one_time_codes) as c`.execute(
          t.database.db,
        )
      ).rows[0];
    const before = await counts();
    for (const [change, field] of cases) {
      const res = await t.app.inject({
        method: "POST",
        url: "/api/v1/accounts/register",
        payload: { ...base, ...change },
      });
      expect(res.statusCode, JSON.stringify(change)).toBe(400);
      const error = (res.json() as { error: { code: string; message: string; details: { field: string } } })
        .error;
      expect(error.code).toBe("validation_failed");
      expect(error.details.field).toBe(field);
      expect(error.message.length).toBeGreaterThan(20);
    }
    expect(await counts()).toEqual(before);
  });

  it("CON-2: registration needs an affirmative acceptance of the policy (no default)", async () => {
    for (const acceptPolicy of [false, undefined]) {
      const res = await t.app.inject({
        method: "POST",
        url: "/api/v1/accounts/register",
        payload: {
          contact: "nobox@example.com",
          username: "nobox",
          password: "No-Box-12345",
          policyVersion,
          ...(acceptPolicy === undefined ? {} : { acceptPolicy }),
        },
      });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain("acceptPolicy");
    }
  });

  it("ACC-1: a contact or username already registered answers 409 naming the field", async () => {
    await register(t.app, policyVersion, { contact: "taken@example.com", username: "taken_name" });
    const attempt = (contact: string, username: string) =>
      t.app.inject({
        method: "POST",
        url: "/api/v1/accounts/register",
        payload: { contact, username, password: "Another-Pass-1", policyVersion, acceptPolicy: true },
      });
    const byContact = await attempt("TAKEN@example.com", "fresh_name");
    expect(byContact.statusCode).toBe(409);
    expect((byContact.json() as { error: { details: { field: string } } }).error.details.field).toBe(
      "contact",
    );
    const byName = await attempt("fresh@example.com", "Taken_Name");
    expect(byName.statusCode).toBe(409);
    expect((byName.json() as { error: { details: { field: string } } }).error.details.field).toBe("username");
  });

  it("ACC-1: signs in with a one-time code sent to the verified contact", async () => {
    const r = await register(t.app, policyVersion, {
      contact: "code.user@example.com",
      username: "code_user",
    });
    clock.advance(2 * MINUTE);
    const send = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/login/code",
      payload: { identifier: "code_user" },
    });
    expect(send.statusCode).toBe(202);
    const { verificationId, sentTo } = send.json() as { verificationId: string; sentTo: string };
    expect(sentTo).toContain("*");
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/login/code/verify",
      payload: { verificationId, code: await latestCode(t.app), client: "api" },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect((res.json() as { subjectId: string }).subjectId).toBe(r.subjectId);
  });

  it("ACC-1: a code request for an unknown identifier looks the same as for a known one", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/login/code",
      payload: { identifier: "nobody_here" },
    });
    expect(res.statusCode).toBe(202);
    const { verificationId } = res.json() as { verificationId: string };
    const verify = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/login/code/verify",
      payload: { verificationId, code: "123456", client: "api" },
    });
    expect(verify.statusCode).toBe(400);
    expect((verify.json() as { error: { details: { reason: string } } }).error.details.reason).toBe(
      "code_expired",
    );
  });
});

describe("passwords, rate limits and lockout (ACC-3)", () => {
  it("ACC-3: passwords are stored only as argon2id (memory-hard) hashes", async () => {
    const r = await register(t.app, policyVersion, {
      contact: "hash.user@example.com",
      username: "hash_user",
    });
    const row = await sql<{ password_hash: string }>`
      select password_hash from credentials where subject_id = ${r.subjectId}`.execute(t.database.db);
    const hash = row.rows[0]?.password_hash ?? "";
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(hash).not.toContain(r.password);
  });

  it("ACC-3: five wrong passwords lock the identifier for 15 minutes with retryAfterSeconds, in the user's language", async () => {
    const r = await register(t.app, policyVersion, { contact: "lock.me@example.com", username: "lock_me" });
    const ip = newIp();
    for (let i = 1; i <= 4; i++) {
      const res = await login(t.app, "lock_me", "Wrong-Pass-1", { ip });
      expect(res.statusCode).toBe(401);
    }
    const fifth = await login(t.app, "lock_me", "Wrong-Pass-1", { ip, locale: "zh-CN" });
    expect(fifth.statusCode).toBe(429);
    const error = (
      fifth.json() as { error: { code: string; message: string; details: { retryAfterSeconds: number } } }
    ).error;
    expect(error.code).toBe("rate_limited");
    expect(error.details.retryAfterSeconds).toBe(15 * 60);
    expect(error.message).toContain("15 分钟");

    // Even the right password is refused while locked, from any address.
    const locked = await login(t.app, "lock_me", r.password, { locale: "en" });
    expect(locked.statusCode).toBe(429);
    expect((locked.json() as { error: { message: string } }).error.message).toMatch(/try again in 15 minute/);

    clock.advance(15 * MINUTE + 1000);
    const after = await login(t.app, "lock_me", r.password);
    expect(after.statusCode).toBe(200);
  });

  it("ACC-3: an unknown account fails exactly like a wrong password", async () => {
    await register(t.app, policyVersion, { contact: "known@example.com", username: "known_user" });
    const unknown = await login(t.app, "unknown_user", "Whatever-123");
    const wrong = await login(t.app, "known_user", "Whatever-123");
    expect(unknown.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    const message = (res: typeof unknown) => (res.json() as { error: { message: string } }).error.message;
    expect(message(unknown)).toBe(message(wrong));
  });

  it("ACC-3: failures from one client address are limited across identifiers", async () => {
    const ip = newIp();
    let last = 0;
    for (let i = 0; i < 20; i++) last = (await login(t.app, `probe_${i}`, "Wrong-Pass-1", { ip })).statusCode;
    expect(last).toBe(429);
    const next = await login(t.app, "probe_new", "Wrong-Pass-1", { ip });
    expect(next.statusCode).toBe(429);
    expect((next.json() as { error: { details: { reason: string } } }).error.details.reason).toBe(
      "ip_locked",
    );
    clock.advance(16 * MINUTE);
  });

  it("ACC-3: five wrong codes make a code unusable, even the right one afterwards", async () => {
    const start = await t.app.inject({
      method: "POST",
      url: "/api/v1/accounts/register",
      payload: {
        contact: "code.kill@example.com",
        username: "code_kill",
        password: "Code-Kill-123",
        policyVersion,
        acceptPolicy: true,
      },
    });
    const { verificationId } = start.json() as { verificationId: string };
    const code = await latestCode(t.app);
    const wrong = code === "000000" ? "111111" : "000000";
    const reasons: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await t.app.inject({
        method: "POST",
        url: "/api/v1/accounts/register/verify",
        payload: { verificationId, code: wrong },
      });
      expect(res.statusCode).toBe(400);
      reasons.push((res.json() as { error: { details: { reason: string } } }).error.details.reason);
    }
    expect(reasons).toEqual(["code_wrong", "code_wrong", "code_wrong", "code_wrong", "code_expired"]);
    const right = await t.app.inject({
      method: "POST",
      url: "/api/v1/accounts/register/verify",
      payload: { verificationId, code },
    });
    expect(right.statusCode).toBe(400);
    expect(await login(t.app, "code_kill", "Code-Kill-123").then((r) => r.statusCode)).toBe(401);
  });

  it("ACC-3: a code cannot be resent before the cool-down; afterwards the new code replaces the old", async () => {
    const start = await t.app.inject({
      method: "POST",
      url: "/api/v1/accounts/register",
      payload: {
        contact: "resend@example.com",
        username: "resend_me",
        password: "Resend-Me-123",
        policyVersion,
        acceptPolicy: true,
      },
    });
    const { verificationId } = start.json() as { verificationId: string };
    const first = await latestCode(t.app);
    const early = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/codes/resend",
      payload: { verificationId },
    });
    expect(early.statusCode).toBe(429);
    expect(
      (early.json() as { error: { details: { retryAfterSeconds: number } } }).error.details.retryAfterSeconds,
    ).toBe(60);
    clock.advance(61_000);
    const again = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/codes/resend",
      payload: { verificationId },
    });
    expect(again.statusCode).toBe(202);
    const next = again.json() as { verificationId: string };
    const stale = await t.app.inject({
      method: "POST",
      url: "/api/v1/accounts/register/verify",
      payload: { verificationId, code: first },
    });
    expect(stale.statusCode).toBe(400);
    const ok = await t.app.inject({
      method: "POST",
      url: "/api/v1/accounts/register/verify",
      payload: { verificationId: next.verificationId, code: await latestCode(t.app), client: "api" },
    });
    expect(ok.statusCode).toBe(201);
  });
});

describe("sessions", () => {
  it("ACC-1: lists, revokes one, revokes all, and signs out; only a SHA-256 of each token is stored", async () => {
    const r = await register(t.app, policyVersion, { contact: "sess@example.com", username: "sess_user" });
    const second = (await login(t.app, "sess_user", r.password)).json() as {
      token: string;
      sessionId: string;
    };
    const list = await t.app.inject({ method: "GET", url: "/api/v1/me/sessions", headers: bearer(r.token) });
    const sessions = (list.json() as { sessions: { id: string; current: boolean; device: string }[] })
      .sessions;
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    expect(sessions[0]?.device).toBe("Chrome on Linux");

    const stored = await sql<{ token_sha256: Buffer }>`select token_sha256 from sessions`.execute(
      t.database.db,
    );
    for (const row of stored.rows) expect(row.token_sha256.toString("latin1")).not.toContain(r.token);

    const revoke = await t.app.inject({
      method: "DELETE",
      url: `/api/v1/me/sessions/${second.sessionId}`,
      headers: bearer(r.token),
    });
    expect(revoke.statusCode).toBe(200);
    expect(
      (await t.app.inject({ method: "GET", url: "/api/v1/me", headers: bearer(second.token) })).statusCode,
    ).toBe(401);

    const third = (await login(t.app, "sess_user", r.password)).json() as { token: string };
    const all = await t.app.inject({
      method: "POST",
      url: "/api/v1/me/sessions/revoke-all",
      headers: bearer(r.token),
      payload: { keepCurrent: true },
    });
    expect((all.json() as { revoked: number }).revoked).toBe(1);
    expect(
      (await t.app.inject({ method: "GET", url: "/api/v1/me", headers: bearer(third.token) })).statusCode,
    ).toBe(401);

    const out = await t.app.inject({ method: "POST", url: "/api/v1/auth/logout", headers: bearer(r.token) });
    expect(out.statusCode).toBe(200);
    expect(
      (await t.app.inject({ method: "GET", url: "/api/v1/me", headers: bearer(r.token) })).statusCode,
    ).toBe(401);
  });

  it("ACC-1: sessions end after the idle time", async () => {
    const r = await register(t.app, policyVersion, { contact: "idle@example.com", username: "idle_user" });
    const web = await login(t.app, "idle_user", r.password, { client: "web" });
    const cookie = web.cookies.find((c) => c.name === "custos_session")?.value ?? "";
    clock.advance(59 * MINUTE);
    expect(
      (await t.app.inject({ method: "GET", url: "/api/v1/me", cookies: { custos_session: cookie } }))
        .statusCode,
    ).toBe(200);
    clock.advance(61 * MINUTE);
    expect(
      (await t.app.inject({ method: "GET", url: "/api/v1/me", cookies: { custos_session: cookie } }))
        .statusCode,
    ).toBe(401);
  });

  it("ACC-1: an unsafe request with the session cookie needs the CSRF token", async () => {
    const r = await register(t.app, policyVersion, { contact: "csrf@example.com", username: "csrf_user" });
    const web = await login(t.app, "csrf_user", r.password, { client: "web" });
    const session = web.cookies.find((c) => c.name === "custos_session")?.value ?? "";
    const refused = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/logout",
      cookies: { custos_session: session },
    });
    expect(refused.statusCode).toBe(403);
    const csrf = await t.app.inject({ method: "GET", url: "/api/v1/session/csrf" });
    const token = (csrf.json() as { token: string }).token;
    const ok = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/logout",
      cookies: { custos_session: session, custos_csrf: token },
      headers: { "x-csrf-token": token, origin: "http://custos.test" },
    });
    expect(ok.statusCode).toBe(200);
    expect((ok.json() as { signedOut: boolean }).signedOut).toBe(true);
  });
});

describe("new devices and compromise (ACC-6)", () => {
  it("ACC-6: a sign-in from an unknown device alerts the user by email and inbox; a known device does not", async () => {
    const r = await register(t.app, policyVersion, { contact: "alert.me@example.com", username: "alert_me" });
    const alerts = async () =>
      (
        await sql<{ n: number }>`
        select count(*)::int as n from messages where subject_id = ${r.subjectId} and template = 'generic-notice'`.execute(
          t.database.db,
        )
      ).rows[0]?.n ?? 0;
    expect(await alerts()).toBe(0);
    await login(t.app, "alert_me", r.password, { userAgent: CHROME_LINUX });
    expect(await alerts()).toBe(0);
    const res = await login(t.app, "alert_me", r.password, { userAgent: FIREFOX_WINDOWS });
    expect((res.json() as { newDevice: boolean }).newDevice).toBe(true);
    const rows = await sql<{ channel: string; body: string }>`
      select channel, body from messages where subject_id = ${r.subjectId} and template = 'generic-notice'`.execute(
      t.database.db,
    );
    expect(rows.rows.map((m) => m.channel).sort()).toEqual(["email", "inbox"]);
    expect(rows.rows[0]?.body).toContain("Firefox on Windows");
  });

  it("ACC-6: every login is recorded under the logs category with the IP encrypted, never in clear", async () => {
    const ip = "203.0.113.77";
    const r = await register(t.app, policyVersion, { contact: "log.me@example.com", username: "log_me", ip });
    await login(t.app, "log_me", r.password, { ip });
    const events = await sql<{ method: string; key_group: string; ciphertext: Buffer }>`
      select method, key_group, ciphertext from login_events where subject_id = ${r.subjectId}`.execute(
      t.database.db,
    );
    expect(events.rows.map((e) => e.method).sort()).toEqual(["password", "register"]);
    const logsGroup = t.manifest.manifest.retention.find(
      (x) => x.id === t.manifest.manifest.categories.find((c) => c.id === "logs")?.retention,
    )?.group;
    for (const e of events.rows) {
      expect(e.key_group).toBe(logsGroup);
      expect(e.ciphertext.toString("latin1")).not.toContain(ip);
    }
  });

  it("ACC-6: reporting a compromise locks the account and ends every session in one step; a code to the verified contact recovers it", async () => {
    const r = await register(t.app, policyVersion, { contact: "leak@example.com", username: "leak_user" });
    const other = (await login(t.app, "leak_user", r.password)).json() as { token: string };
    const report = await t.app.inject({
      method: "POST",
      url: "/api/v1/me/report-compromise",
      headers: bearer(r.token),
    });
    expect(report.statusCode).toBe(200);
    expect(report.json()).toEqual({ locked: true, revokedSessions: 2 });
    for (const token of [r.token, other.token])
      expect(
        (await t.app.inject({ method: "GET", url: "/api/v1/me", headers: bearer(token) })).statusCode,
      ).toBe(401);
    const refused = await login(t.app, "leak_user", r.password);
    expect(refused.statusCode).toBe(403);
    expect((refused.json() as { error: { details: { reason: string } } }).error.details.reason).toBe(
      "account_locked",
    );
    const notice = (await outbox(t.app)).find((m) => m.subject === "Your account is locked");
    expect(notice?.channel).toBe("email");

    clock.advance(2 * MINUTE);
    const start = await t.app.inject({
      method: "POST",
      url: "/api/v1/accounts/recover",
      payload: { identifier: "leak@example.com" },
    });
    expect(start.statusCode).toBe(202);
    const { verificationId } = start.json() as { verificationId: string };
    const done = await t.app.inject({
      method: "POST",
      url: "/api/v1/accounts/recover/complete",
      payload: { verificationId, code: await latestCode(t.app), newPassword: "Brand-New-Pass-7" },
    });
    expect(done.statusCode, done.body).toBe(200);
    expect((await login(t.app, "leak_user", r.password)).statusCode).toBe(401);
    expect((await login(t.app, "leak_user", "Brand-New-Pass-7")).statusCode).toBe(200);
  });
});

describe("fresh verification (ACC-4, RR-2)", () => {
  it("ACC-4: personal information needs a fresh verification, which expires after the configured minutes", async () => {
    const r = await register(t.app, policyVersion, {
      contact: "fresh@example.com",
      username: "fresh_user",
      locale: "zh-CN",
    });
    const get = (lang = "en") =>
      t.app.inject({
        method: "GET",
        url: `/api/v1/me/personal-information?lang=${lang}`,
        headers: bearer(r.token),
      });
    const before = await get();
    expect(before.statusCode).toBe(403);
    expect(before.json()).toMatchObject({
      error: { code: "forbidden", details: { reason: "reauth_required" } },
    });

    const wrong = await t.app.inject({
      method: "POST",
      url: "/api/v1/me/reauth",
      headers: bearer(r.token),
      payload: { password: "Not-The-Password-1" },
    });
    expect(wrong.statusCode).toBe(401);
    const ok = await t.app.inject({
      method: "POST",
      url: "/api/v1/me/reauth",
      headers: bearer(r.token),
      payload: { password: r.password },
    });
    expect(ok.statusCode).toBe(200);
    expect(new Date((ok.json() as { freshUntil: string }).freshUntil).getTime()).toBe(
      clock.now().getTime() + 10 * MINUTE,
    );

    const after = await get("zh-CN");
    expect(after.statusCode).toBe(200);
    const body = after.json() as {
      categories: {
        id: string;
        name: string;
        fields: { id: string; name: string; value: string }[];
        records?: unknown[];
      }[];
    };
    const registration = body.categories.find((c) => c.id === "registration");
    expect(registration?.name).toBe("注册与登录信息");
    expect(registration?.fields.find((f) => f.id === "email")?.value).toBe("fresh@example.com");
    expect(registration?.fields.find((f) => f.id === "username")?.value).toBe("fresh_user");
    expect(registration?.fields.find((f) => f.id === "password")?.value).not.toContain(r.password);
    expect(body.categories.find((c) => c.id === "logs")?.records?.length).toBeGreaterThan(0);

    clock.advance(11 * MINUTE);
    expect((await get()).statusCode).toBe(403);
  });

  it("RR-2: a verification code goes only to a kind of contact the subject gave", async () => {
    const r = await register(t.app, policyVersion, {
      contact: "only.email@example.com",
      username: "only_email",
    });
    const me = await t.app.inject({ method: "GET", url: "/api/v1/me", headers: bearer(r.token) });
    expect((me.json() as { reauthMethods: string[] }).reauthMethods).toEqual(["password", "email-code"]);
    const sms = await t.app.inject({
      method: "POST",
      url: "/api/v1/me/reauth/code",
      headers: bearer(r.token),
      payload: { channel: "sms" },
    });
    expect(sms.statusCode).toBe(400);
    expect((sms.json() as { error: { message: string } }).error.message).toContain(
      "did not give us a mobile number",
    );

    clock.advance(2 * MINUTE);
    const email = await t.app.inject({
      method: "POST",
      url: "/api/v1/me/reauth/code",
      headers: bearer(r.token),
      payload: {},
    });
    expect(email.statusCode).toBe(202);
    expect((email.json() as { channel: string }).channel).toBe("email");
    const verified = await t.app.inject({
      method: "POST",
      url: "/api/v1/me/reauth",
      headers: bearer(r.token),
      payload: {
        verificationId: (email.json() as { verificationId: string }).verificationId,
        code: await latestCode(t.app),
      },
    });
    expect(verified.statusCode).toBe(200);
    const pi = await t.app.inject({
      method: "GET",
      url: "/api/v1/me/personal-information",
      headers: bearer(r.token),
    });
    expect(pi.statusCode).toBe(200);
  });
});

describe("no personal information in clear (SEC-1, SEC-6)", () => {
  it("SEC-1: after registration no table holds the contact, username or password in clear", async () => {
    const contact = "plain.text.check@example.com";
    const username = "plaincheck_zz";
    const password = "Plain-Check-Pass-42";
    const phone = "13700001111";
    await register(t.app, policyVersion, { contact, username, password });
    await register(t.app, policyVersion, { contact: phone, username: "plaincheck_phone", password });
    const columns = await sql<{ table_name: string; column_name: string; data_type: string }>`
      select table_name, column_name, data_type from information_schema.columns
      where table_schema = current_schema() and data_type in ('text', 'bytea', 'jsonb', 'character varying')`.execute(
      t.database.db,
    );
    expect(columns.rows.length).toBeGreaterThan(10);
    const needles = [contact, username, password, phone, "Plain-Check"];
    for (const col of columns.rows) {
      const rows = await sql<{ v: unknown }>`
        select ${sql.ref(col.column_name)} as v from ${sql.table(col.table_name)}`.execute(t.database.db);
      for (const { v } of rows.rows) {
        if (v === null || v === undefined) continue;
        const text = Buffer.isBuffer(v)
          ? v.toString("latin1")
          : typeof v === "string"
            ? v
            : JSON.stringify(v);
        for (const needle of needles)
          expect(text.toLowerCase(), `${col.table_name}.${col.column_name}`).not.toContain(
            needle.toLowerCase(),
          );
      }
    }
  });

  it("SEC-6: captured logs never contain a contact, username or password", async () => {
    const joined = t.logs.join("\n").toLowerCase();
    expect(joined.length).toBeGreaterThan(0);
    for (const secret of [
      "ann.lee@example.com",
      "13912345678",
      "correct-horse-9",
      "plain-check-pass-42",
      "brand-new-pass-7",
      "lock_me",
    ])
      expect(joined).not.toContain(secret);
  });
});
