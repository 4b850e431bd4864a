import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createSubjectFieldRepo } from "@custos/store";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PEOPLE, seedDemo } from "../src/demo/demo-data.ts";
import { buildTestApp, logCapture, type TestApp } from "./helpers.ts";

/**
 * SEC-6: with the most verbose log level, a broad run of requests (policy pages, malformed JSON,
 * validation failures carrying personal information in the body, unknown routes, rate limiting)
 * and real notifications (email through a real SMTP server that refuses some recipients, SMS and
 * inbox through the dev outbox) leaves no personal information of any demo person, and no master
 * key, in any log line; error bodies carry no stack and no SQL.
 */

const MASTER_KEY = randomBytes(32).toString("base64");
// Refused recipients make the mail transport fail with an error that names the address.
const REFUSED = new Set(["jane.doe@example.com"]);

async function startSmtp() {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (REFUSED.has(address.address))
        return callback(
          Object.assign(new Error(`mailbox ${address.address} unavailable`), { responseCode: 550 }),
        );
      callback();
    },
    onData(stream, _session, callback) {
      stream.on("data", () => {});
      stream.on("end", () => callback());
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("no personal information or secrets in logs and errors (SEC-6)", () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  // At the most verbose level; the lines are also copied to the run's log file (test/global-setup.ts).
  const { lines, logger } = logCapture("trace");
  const errorBodies: { url: string; status: number; body: string }[] = [];
  const secrets = new Set<string>();

  beforeAll(async () => {
    smtp = await startSmtp();
    t = await buildTestApp({
      env: {
        CUSTOS_MASTER_KEY: MASTER_KEY,
        CUSTOS_DEV: "true",
        LOG_LEVEL: "trace",
        SMTP_URL: smtp.url,
        RATE_LIMIT_MAX: "60",
      },
      deps: { logger },
    });
    // The helper built its own vault with the config's key: the key we gave.
    expect(t.config.masterKey).toBe(MASTER_KEY);
    await seedDemo({ ...t.app.custos, db: t.database.db, manifest: t.manifest.manifest });

    // Every demo person's identifying values: from the demo list and, decrypted, from the database.
    for (const p of PEOPLE) {
      for (const v of [p.name, p.phone, p.email, p.guardian?.phone, p.guardian?.email]) if (v) secrets.add(v);
    }
    const repo = createSubjectFieldRepo(t.database.db, t.vault);
    const subjects = await t.database.db.selectFrom("subjects").select("subject_id").execute();
    expect(subjects).toHaveLength(PEOPLE.length);
    for (const { subject_id } of subjects) {
      const all = await repo.getAll(subject_id);
      for (const [category, fields] of Object.entries(all))
        for (const [field, value] of Object.entries(fields))
          if (["name", "phone", "email", "id-number"].includes(field) || category === "real-name")
            secrets.add(value);
    }
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  async function call(
    method: "GET" | "POST",
    url: string,
    payload?: string,
    headers: Record<string, string> = {},
  ) {
    const res = await t.app.inject({
      method,
      url,
      ...(payload === undefined
        ? {}
        : { payload, headers: { "content-type": "application/json", ...headers } }),
    });
    if (res.statusCode >= 400) errorBodies.push({ url, status: res.statusCode, body: res.body });
    return res;
  }

  it("SEC-6: a broad run of requests and notifications logs no personal information and no master key", async () => {
    // Notifications with real recipients: wait until the worker has delivered (or failed) them all.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const pending = await t.database.db
        .selectFrom("messages")
        .select("id")
        .where("status", "=", "queued")
        .where("channel", "!=", "inbox")
        .execute();
      if (pending.length === 0) break;
      if (Date.now() > deadline) throw new Error(`${pending.length} messages still queued`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const statuses = await t.database.db
      .selectFrom("messages")
      .select(["channel", "status", "error"])
      .execute();
    expect(statuses.some((m) => m.channel === "email" && m.status === "sent")).toBe(true);
    expect(statuses.some((m) => m.channel === "email" && m.status === "failed")).toBe(true);
    expect(statuses.some((m) => m.channel === "sms" && m.status === "sent")).toBe(true);

    // Policy pages and documents.
    expect((await call("GET", "/healthz")).statusCode).toBe(200);
    expect((await call("GET", "/api/v1/policy/versions")).statusCode).toBe(200);
    for (const lang of ["en", "zh-CN"]) {
      expect((await call("GET", `/api/v1/policy/documents?lang=${lang}`)).statusCode).toBe(200);
      expect((await call("GET", `/api/v1/policy/documents/privacy-policy?lang=${lang}`)).statusCode).toBe(
        200,
      );
      expect((await call("GET", `/api/v1/policy/personal-information?lang=${lang}`)).statusCode).toBe(200);
      expect((await call("GET", `/api/v1/policy/third-parties?lang=${lang}`)).statusCode).toBe(200);
    }
    expect((await call("GET", "/openapi.json")).statusCode).toBe(200);
    expect((await call("GET", "/api/v1/dev/outbox")).statusCode).toBe(200);

    // Errors carrying personal information in the body (never in the URL).
    const [li, jane] = [PEOPLE[1], PEOPLE[2]];
    if (!li?.email || !li.phone || !jane?.email) throw new Error("demo data changed");
    const signIn = "/api/v1/staff/auth/sign-in";
    const badJson = await call("POST", signIn, `{"email": "${li.email}", "password": "${li.phone}`);
    expect(badJson.statusCode).toBe(400);
    const extraField = await call(
      "POST",
      signIn,
      JSON.stringify({ email: li.email, password: "pw", phone: li.phone, name: li.name }),
    );
    expect(extraField.statusCode).toBe(400);
    const tooLong = await call(
      "POST",
      signIn,
      JSON.stringify({ email: `${li.email}${"x".repeat(400)}`, password: li.phone }),
    );
    expect(tooLong.statusCode).toBe(400);
    const wrongType = await call(
      "POST",
      signIn,
      JSON.stringify({ email: [jane.email], password: { phone: li.phone } }),
    );
    expect(wrongType.statusCode).toBe(400);
    const unknownPerson = await call(
      "POST",
      signIn,
      JSON.stringify({ email: jane.email, password: "not-the-password" }),
    );
    expect(unknownPerson.statusCode).toBeGreaterThanOrEqual(400);
    expect(unknownPerson.statusCode).toBeLessThan(500);
    const wrongMedia = await t.app.inject({
      method: "POST",
      url: signIn,
      payload: `email=${encodeURIComponent(jane.email)}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    if (wrongMedia.statusCode >= 400)
      errorBodies.push({ url: signIn, status: wrongMedia.statusCode, body: wrongMedia.body });
    expect(wrongMedia.statusCode).toBe(415);
    expect((await call("GET", "/api/v1/no-such-route")).statusCode).toBe(404);
    expect(
      (await call("GET", "/api/v1/policy/documents/no-such-document?lang=en")).statusCode,
    ).toBeGreaterThanOrEqual(400);
    expect((await call("GET", "/api/v1/staff/me")).statusCode).toBe(401);
    expect((await call("GET", "/api/v1/auth/oidc/no-such-provider/start")).statusCode).toBe(404);

    // Rate limiting: keep asking until refused.
    let limited = false;
    for (let i = 0; i < 120 && !limited; i++)
      limited = (await call("GET", "/api/v1/policy/versions")).statusCode === 429;
    expect(limited).toBe(true);

    // The scan.
    expect(lines.length).toBeGreaterThan(50);
    expect(t.app.log.level).toBe("trace");
    // Warnings from the failed email delivery are among the lines scanned.
    expect(lines.some((l) => (JSON.parse(l) as { level: number }).level >= 40)).toBe(true);
    expect(secrets.size).toBeGreaterThan(20);
    const needles = [...secrets, MASTER_KEY, Buffer.from(MASTER_KEY, "base64").toString("hex")];
    const leaksIn = (text: string[]) =>
      text.filter((line) => needles.some((n) => line.toLowerCase().includes(n.toLowerCase())));
    // The scanner itself finds a planted leak.
    expect(
      leaksIn([`{"msg":"sent to ${jane.email.toUpperCase()}"}`, `{"key":"${MASTER_KEY}"}`]),
    ).toHaveLength(2);
    expect(leaksIn(lines)).toEqual([]);
  });

  it("SEC-6: error bodies carry no stack, no SQL and no personal information", () => {
    expect(errorBodies.length).toBeGreaterThan(8);
    for (const { body } of errorBodies) {
      const json = JSON.parse(body) as { error?: { code?: string; message?: string; requestId?: string } };
      expect(json.error?.code).toEqual(expect.any(String));
      expect(json.error?.message).toEqual(expect.any(String));
      expect(body).not.toMatch(/\bat .+:\d+:\d+|node:internal|\.ts:\d+|"stack"/);
      expect(body).not.toMatch(/\b(select .+ from|insert into|update \S+ set|delete from)\b/i);
      for (const secret of secrets) expect(body).not.toContain(secret);
      expect(body).not.toContain(MASTER_KEY);
    }
  });
});
