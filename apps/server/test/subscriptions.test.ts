import { fixedClock } from "@custos/core";
import { createConsentLedger } from "@custos/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, DEV_SMS_WEBHOOK_SECRET, loadConfig } from "../src/config.ts";
import { hashServiceKey } from "../src/consent/service-auth.ts";
import { SMS_SIGNATURE_HEADER, signWebhookBody } from "../src/consent/sms-reply.ts";
import type { SubscriptionsView } from "../src/consent/subscription-service.ts";
import { bearer, CHROME_LINUX, login, newIp, outbox } from "./accounts-helpers.ts";
import { SERVICE_KEY, serviceHeaders } from "./consent-helpers.ts";
import { buildTestApp, type TestApp } from "./helpers.ts";
import { startSmtp, waitFor } from "./smtp-helpers.ts";

/**
 * CON-9: marketing subscriptions per channel, with three ways out: the privacy-center switch, an SMS
 * reply through the signed inbound webhook, and the RFC 8058 one-click link of every marketing email
 * (checked on a real SMTP server).
 */

const WEBHOOK_SECRET = "test-sms-webhook-secret-0123456789abcdef";
const PUBLIC = "http://custos.test";

/** Headers (unfolded, by lower-case name) and decoded text body of a single-part message. */
function parseMail(data: string): { headers: Map<string, string>; text: string } {
  const split = data.indexOf("\r\n\r\n");
  const head = data.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const headers = new Map<string, string>();
  for (const line of head.split("\r\n")) {
    const i = line.indexOf(":");
    headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  const raw = data.slice(split + 4);
  const encoding = headers.get("content-transfer-encoding")?.toLowerCase();
  const text =
    encoding === "base64"
      ? Buffer.from(raw, "base64").toString("utf8")
      : encoding === "quoted-printable"
        ? Buffer.from(
            raw
              .replace(/=\r\n/g, "")
              .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
            "latin1",
          ).toString("utf8")
        : raw;
  return { headers, text };
}

type View = SubscriptionsView;

let t: TestApp;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
const clock = fixedClock("2025-04-01T08:00:00Z");
let version: string;

beforeAll(async () => {
  smtp = await startSmtp();
  t = await buildTestApp({
    env: {
      CUSTOS_DEV: "1",
      TRUST_PROXY: "true",
      SMTP_URL: smtp.url,
      MAIL_FROM: "Privacy <privacy@custos.test>",
      CUSTOS_SMS_WEBHOOK_SECRET: WEBHOOK_SECRET,
      CUSTOS_SERVICE_KEYS: JSON.stringify([{ name: "game-server", keyHash: hashServiceKey(SERVICE_KEY) }]),
    },
    deps: { clock },
  });
  version = t.manifest.manifest.version;
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

let n = 0;
/**
 * A registered player (registration records the policy acceptance, so marketing is consented). The
 * code comes from the dev outbox for a phone, from the SMTP server for an email (SMTP is live here).
 */
async function newPlayer(contact?: string) {
  n += 1;
  const username = `subs_p${n}_${Math.floor(Math.random() * 1e6)}`;
  const password = "Correct-Horse-9";
  const to = contact ?? `subs.player${n}.${Date.now()}@example.com`;
  const ip = newIp();
  clock.advance(1000);
  const start = await t.app.inject({
    method: "POST",
    url: "/api/v1/accounts/register",
    headers: { "x-forwarded-for": ip, "user-agent": CHROME_LINUX },
    payload: { contact: to, username, password, locale: "en", policyVersion: version, acceptPolicy: true },
  });
  expect(start.statusCode, start.body).toBe(202);
  const codeIn = (text: string | undefined) => /\b(\d{6})\b/.exec(text ?? "")?.[1];
  const code = to.includes("@")
    ? await waitFor(() => {
        const mail = smtp.received.filter((m) => m.to.includes(to)).at(-1);
        return mail ? codeIn(parseMail(mail.data).text) : undefined;
      })
    : codeIn((await outbox(t.app)).find((m) => m.template === "verification-code")?.body);
  const verify = await t.app.inject({
    method: "POST",
    url: "/api/v1/accounts/register/verify",
    headers: { "x-forwarded-for": ip, "user-agent": CHROME_LINUX },
    payload: {
      verificationId: (start.json() as { verificationId: string }).verificationId,
      code,
      client: "api",
    },
  });
  expect(verify.statusCode, verify.body).toBe(201);
  const body = verify.json() as { subjectId: string; token: string };
  return { subjectId: body.subjectId, contact: to, username, password, headers: bearer(body.token) };
}

/** Gives or withdraws the marketing purposes themselves (the default of untouched channels). */
async function setMarketingConsent(headers: Record<string, string>, state: "given" | "withdrawn") {
  for (const purposeId of ["direct-marketing", "commercial-sms"]) {
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/me/consents",
      headers,
      payload: { purposeId, state, noticeVersion: version, language: "en", method: "web" },
    });
    expect(res.statusCode, res.body).toBe(201);
  }
}

async function subscriptions(headers: Record<string, string>, lang = "en"): Promise<View> {
  const res = await t.app.inject({ method: "GET", url: `/api/v1/me/subscriptions?lang=${lang}`, headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as View;
}
const channelOf = (view: View, id: string) => view.channels.find((c) => c.id === id);

async function decision(subjectId: string, channel: string, purposeId = "direct-marketing") {
  const res = await t.app.inject({
    method: "POST",
    url: "/api/v1/decisions",
    headers: serviceHeaders,
    payload: { subjectId, purposeId, categories: ["marketing-contacts"], channel },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { allow: boolean; reason: string };
}

async function marketingEvents(subjectId: string) {
  const events = await createConsentLedger({ db: t.database.db }).events(subjectId);
  return events.filter((e) => e.targetKind === "marketing");
}

function postWebhook(payload: object, options: { secret?: string; signature?: string } = {}) {
  const raw = JSON.stringify(payload);
  return t.app.inject({
    method: "POST",
    url: "/api/v1/webhooks/sms-inbound",
    headers: {
      "content-type": "application/json",
      [SMS_SIGNATURE_HEADER]: options.signature ?? signWebhookBody(options.secret ?? WEBHOOK_SECRET, raw),
    },
    payload: raw,
  });
}

describe("marketing subscriptions in the privacy center (CON-9)", () => {
  it("CON-9: every manifest channel is listed with its name, how to unsubscribe and the last change; untouched channels follow the marketing consent", async () => {
    const p = await newPlayer();
    await setMarketingConsent(p.headers, "withdrawn");
    const before = await subscriptions(p.headers);
    expect(before.channels.map((c) => c.id)).toEqual(t.manifest.manifest.marketingChannels.map((c) => c.id));
    expect(before.channels.map((c) => c.id)).toEqual(["sms", "email", "push", "social"]);
    // Nothing consented yet: nothing is pre-ticked.
    expect(before.marketingConsented).toBe(false);
    for (const c of before.channels)
      expect(c).toMatchObject({ subscribed: false, chosen: false, receives: false });
    expect(channelOf(before, "sms")).toMatchObject({
      name: "Text messages",
      unsubscribe: expect.stringContaining("TD"),
      changedAt: null,
    });

    await setMarketingConsent(p.headers, "given");
    const after = await subscriptions(p.headers);
    expect(after.marketingConsented).toBe(true);
    for (const c of after.channels)
      expect(c).toMatchObject({ subscribed: true, chosen: false, receives: true });

    const zh = await subscriptions(p.headers, "zh-CN");
    expect(channelOf(zh, "sms")).toMatchObject({ name: "短信", unsubscribe: expect.stringContaining("TD") });
    expect(channelOf(zh, "email")?.unsubscribe).toContain("一键退订");
  });

  it("CON-9: the switch (cookie session with CSRF) unsubscribes one channel only, at once, in the ledger", async () => {
    const p = await newPlayer();
    const web = await login(t.app, p.username, p.password, { client: "web" });
    const session = web.cookies.find((c) => c.name === "custos_session")?.value ?? "";
    const csrf = (await t.app.inject({ method: "GET", url: "/api/v1/session/csrf" })).json().token as string;
    const put = (channel: string, body: object, withCsrf = true) =>
      t.app.inject({
        method: "PUT",
        url: `/api/v1/me/subscriptions/${channel}`,
        cookies: { custos_session: session, ...(withCsrf ? { custos_csrf: csrf } : {}) },
        headers: withCsrf ? { "x-csrf-token": csrf, origin: PUBLIC } : { origin: PUBLIC },
        payload: body,
      });

    const noCsrf = await put("sms", { subscribed: false, language: "en" }, false);
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().error.details.reason).toBe("csrf_failed");
    expect(
      (
        await t.app.inject({
          method: "PUT",
          url: "/api/v1/me/subscriptions/sms",
          payload: { subscribed: false, language: "en" },
        })
      ).statusCode,
    ).toBe(401);
    const unknown = await put("fax", { subscribed: false, language: "en" });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.details.valid).toEqual(["sms", "email", "push", "social"]);
    expect((await put("sms", { subscribed: "no", language: "en" })).statusCode).toBe(400);

    const changedAt = clock.now().toISOString();
    const res = await put("sms", { subscribed: false, language: "en" });
    expect(res.statusCode, res.body).toBe(200);
    const view = res.json() as View;
    expect(channelOf(view, "sms")).toMatchObject({
      subscribed: false,
      chosen: true,
      receives: false,
      changedAt,
    });
    expect(channelOf(view, "email")).toMatchObject({
      subscribed: true,
      chosen: false,
      receives: true,
      changedAt: null,
    });

    expect(await decision(p.subjectId, "sms")).toMatchObject({ allow: false, reason: "unsubscribed" });
    expect(await decision(p.subjectId, "email")).toMatchObject({ allow: true });
    expect(await decision(p.subjectId, "sms", "commercial-sms")).toMatchObject({
      allow: false,
      reason: "unsubscribed",
    });
    const [event] = await marketingEvents(p.subjectId);
    expect(event).toMatchObject({ targetId: "sms", state: "withdrawn", method: "web", actor: "self" });

    // Subscribing again is the same one step.
    const again = await put("sms", { subscribed: true, language: "zh-CN" });
    expect(channelOf(again.json() as View, "sms")).toMatchObject({
      subscribed: true,
      chosen: true,
      receives: true,
    });
    expect(await decision(p.subjectId, "sms")).toMatchObject({ allow: true });
    // Push and social have their switch too.
    await put("push", { subscribed: false, language: "en" });
    await put("social", { subscribed: false, language: "en" });
    const last = await subscriptions(p.headers);
    expect(channelOf(last, "push")).toMatchObject({ subscribed: false, receives: false });
    expect(channelOf(last, "social")).toMatchObject({ subscribed: false, receives: false });
    expect(await decision(p.subjectId, "push", "direct-marketing")).toMatchObject({ allow: false });
  });
});

describe("unsubscribing by SMS reply (CON-9)", () => {
  it("CON-9: replying ＴＤ through the signed webhook unsubscribes SMS (method sms) and confirms by SMS", async () => {
    const phone = "13700137001";
    const p = await newPlayer(phone);
    expect(await decision(p.subjectId, "sms")).toMatchObject({ allow: true });
    const body = { from: `+86 ${phone}`, text: " ＴＤ ", receivedAt: "2025-04-01T08:05:00+08:00" };

    const unsigned = await t.app.inject({
      method: "POST",
      url: "/api/v1/webhooks/sms-inbound",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify(body),
    });
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.json().error.message).toContain(SMS_SIGNATURE_HEADER);
    expect((await postWebhook(body, { secret: "another-secret-that-is-long-enough-000" })).statusCode).toBe(
      401,
    );
    expect(await marketingEvents(p.subjectId)).toEqual([]);

    const res = await postWebhook(body);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ received: true });
    expect(await decision(p.subjectId, "sms")).toMatchObject({ allow: false, reason: "unsubscribed" });
    expect(await decision(p.subjectId, "email")).toMatchObject({ allow: true });
    const events = await marketingEvents(p.subjectId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ targetId: "sms", state: "withdrawn", method: "sms", actor: "self" });
    const confirmation = await waitFor(async () =>
      (await outbox(t.app)).find(
        (m) => m.channel === "sms" && m.template === "generic-notice" && m.to === "137****7001",
      ),
    );
    expect(confirmation.body).toContain("unsubscribed");

    // A retried delivery of the same reply records nothing more and sends no second confirmation.
    expect((await postWebhook(body)).statusCode).toBe(200);
    expect(await marketingEvents(p.subjectId)).toHaveLength(1);
    const confirmations = (await outbox(t.app)).filter(
      (m) => m.to === "137****7001" && m.template === "generic-notice",
    );
    expect(confirmations).toHaveLength(1);
  });

  it("CON-9: STOP, 退订 and unknown numbers answer the same 200; other texts are ignored and never logged", async () => {
    const phone = "13700137002";
    const p = await newPlayer(phone);
    const before = (await outbox(t.app)).length;

    const chat = await postWebhook({
      from: phone,
      text: "hello, my secret reply 4821",
      receivedAt: "2025-04-01T08:06:00Z",
    });
    const stranger = await postWebhook({
      from: "13900139999",
      text: "STOP",
      receivedAt: "2025-04-01T08:06:00Z",
    });
    const foreign = await postWebhook({
      from: "+44 7700 900123",
      text: "STOP",
      receivedAt: "2025-04-01T08:06:00Z",
    });
    for (const r of [chat, stranger, foreign]) {
      expect(r.statusCode).toBe(200);
      expect(r.body).toBe(JSON.stringify({ received: true }));
    }
    expect(await marketingEvents(p.subjectId)).toEqual([]);
    expect((await outbox(t.app)).length).toBe(before);

    const stop = await postWebhook({ from: phone, text: "退订", receivedAt: "2025-04-01T08:07:00Z" });
    expect(stop.body).toBe(JSON.stringify({ received: true }));
    expect(await marketingEvents(p.subjectId)).toMatchObject([
      { targetId: "sms", state: "withdrawn", method: "sms" },
    ]);
    const view = await subscriptions(p.headers);
    expect(channelOf(view, "sms")).toMatchObject({ subscribed: false, chosen: true });
    expect(channelOf(view, "email")).toMatchObject({ subscribed: true, chosen: false });

    // Bad input after a valid signature is a plain 400 naming the field, without the values.
    const bad = await postWebhook({ from: phone, text: "TD" });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).not.toContain(phone);

    const logs = t.logs.join("\n");
    for (const secret of [phone, "13900139999", "7700 900123", "my secret reply", "退订"])
      expect(logs).not.toContain(secret);
  });

  it("CON-9: the webhook secret comes from CUSTOS_SMS_WEBHOOK_SECRET: a dev default only in dev mode, checked at start", () => {
    expect(loadConfig({ CUSTOS_DEV: "1" }).smsWebhookSecret).toBe(DEV_SMS_WEBHOOK_SECRET);
    expect(loadConfig({}).smsWebhookSecret).toBeUndefined();
    expect(loadConfig({ CUSTOS_SMS_WEBHOOK_SECRET: WEBHOOK_SECRET }).smsWebhookSecret).toBe(WEBHOOK_SECRET);
    expect(() => loadConfig({ CUSTOS_SMS_WEBHOOK_SECRET: "short" })).toThrow(ConfigError);
    expect(() => loadConfig({ CUSTOS_SMS_WEBHOOK_SECRET: DEV_SMS_WEBHOOK_SECRET })).toThrow(
      /CUSTOS_SMS_WEBHOOK_SECRET is the public development value/,
    );
    expect(() => loadConfig({ CUSTOS_UNSUBSCRIBE_SECRET: "short" })).toThrow(/CUSTOS_UNSUBSCRIBE_SECRET/);
  });

  it("CON-9: without a configured secret (not dev mode) the webhook refuses every call", async () => {
    const prod = await buildTestApp({ deps: { startWorker: false } });
    try {
      const raw = JSON.stringify({ from: "13700137003", text: "TD", receivedAt: "2025-04-01T08:00:00Z" });
      const res = await prod.app.inject({
        method: "POST",
        url: "/api/v1/webhooks/sms-inbound",
        headers: {
          "content-type": "application/json",
          [SMS_SIGNATURE_HEADER]: signWebhookBody(DEV_SMS_WEBHOOK_SECRET, raw),
        },
        payload: raw,
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.details.reason).toBe("webhook_not_configured");
    } finally {
      await prod.close();
    }
  });
});

describe("one-click email unsubscribe (CON-9, RFC 8058)", () => {
  it("CON-9: a marketing email carries List-Unsubscribe and List-Unsubscribe-Post, and POSTing the link unsubscribes email", async () => {
    const p = await newPlayer(`one.click.${Date.now()}@example.com`);
    const service = t.app.custosSubscriptions;
    const result = await service.sendMarketing({
      subjectId: p.subjectId,
      channel: "email",
      locale: "en",
      subject: "New season pass",
      text: "The spring season starts today.",
    });
    expect(result.status).toBe("sent");
    const { headers, text } = await waitFor(() =>
      smtp.received
        .filter((m) => m.to.includes(p.contact))
        .map((m) => parseMail(m.data))
        .find((m) => m.text.includes("The spring season starts today.")),
    );
    const listUnsubscribe = headers.get("list-unsubscribe") ?? "";
    const match =
      /^<(http:\/\/custos\.test\/u\/([A-Za-z0-9_-]+))>, <mailto:privacy@custos\.test\?subject=unsubscribe>$/.exec(
        listUnsubscribe,
      );
    expect(match, listUnsubscribe).not.toBeNull();
    const [, link = "", token = ""] = match ?? [];
    expect(headers.get("list-unsubscribe-post")).toBe("List-Unsubscribe=One-Click");
    expect(text).toContain("The spring season starts today.");
    expect(text).toContain(link);
    // No personal information in the link.
    expect(link).not.toContain("example.com");
    expect(link).not.toContain(p.subjectId);

    // A GET (a mail scanner following the link) only leads to the confirmation page.
    const get = await t.app.inject({ method: "GET", url: `/u/${token}` });
    expect(get.statusCode).toBe(302);
    expect(get.headers.location).toBe(`/center/unsubscribe/${token}`);
    const info = await t.app.inject({ method: "GET", url: `/api/v1/unsubscribe/${token}?lang=zh-CN` });
    expect(info.json()).toEqual({ channel: "email", name: "电子邮件" });
    expect(await marketingEvents(p.subjectId)).toEqual([]);
    expect(await decision(p.subjectId, "email")).toMatchObject({ allow: true });

    // The mail provider's one-click POST: form-encoded, no session, no CSRF token.
    const post = await t.app.inject({
      method: "POST",
      url: new URL(link).pathname,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "List-Unsubscribe=One-Click",
    });
    expect(post.statusCode, post.body).toBe(200);
    expect(post.json()).toEqual({ channel: "email", subscribed: false });
    expect(await marketingEvents(p.subjectId)).toMatchObject([
      { targetId: "email", state: "withdrawn", method: "email" },
    ]);
    expect(await decision(p.subjectId, "email")).toMatchObject({ allow: false, reason: "unsubscribed" });
    expect(await decision(p.subjectId, "sms")).toMatchObject({ allow: true });

    // Again, or from a browser that is signed in (session cookie, no CSRF token): still 200, nothing new.
    const web = await login(t.app, p.username, p.password, { client: "web" });
    const again = await t.app.inject({
      method: "POST",
      url: `/u/${token}`,
      cookies: { custos_session: web.cookies.find((c) => c.name === "custos_session")?.value ?? "" },
      headers: { "content-type": "application/x-www-form-urlencoded", origin: PUBLIC },
      payload: "List-Unsubscribe=One-Click",
    });
    expect(again.statusCode, again.body).toBe(200);
    expect(await marketingEvents(p.subjectId)).toHaveLength(1);

    // The next marketing email is refused by the decision, skipped and counted, and never sent.
    const statsBefore = service.stats();
    const skipped = await service.sendMarketing({
      subjectId: p.subjectId,
      channel: "email",
      locale: "en",
      subject: "Another offer",
      text: "Should not arrive.",
    });
    expect(skipped).toEqual({ status: "skipped", reason: "unsubscribed" });
    expect(service.stats().skipped).toBe(statsBefore.skipped + 1);
    expect(service.stats().skippedByReason.unsubscribed).toBe(
      (statsBefore.skippedByReason.unsubscribed ?? 0) + 1,
    );
    // Nothing was even queued: a sent message is stored before delivery.
    const stored = await t.database.db.selectFrom("messages").select("body").execute();
    expect(stored.some((m) => m.body.includes("Should not arrive."))).toBe(false);
    expect(stored.some((m) => m.body.includes("The spring season starts today."))).toBe(true);
  });

  it("CON-9: multipart one-click bodies work too; a wrong body, a tampered or an expired link is a clear 400", async () => {
    const p = await newPlayer();
    const service = t.app.custosSubscriptions;
    const token = await service.issueToken(p.subjectId, "email");

    const wrongBody = await t.app.inject({
      method: "POST",
      url: `/u/${token}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "unsubscribe=yes",
    });
    expect(wrongBody.statusCode).toBe(400);
    expect(wrongBody.json().error.message).toContain("List-Unsubscribe=One-Click");

    const c = token[30] === "A" ? "B" : "A";
    const tampered = `${token.slice(0, 30)}${c}${token.slice(31)}`;
    for (const res of [
      await t.app.inject({
        method: "POST",
        url: `/u/${tampered}`,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: "List-Unsubscribe=One-Click",
      }),
      await t.app.inject({ method: "GET", url: `/api/v1/unsubscribe/${tampered}` }),
      await t.app.inject({ method: "GET", url: `/api/v1/unsubscribe/${token.slice(0, 40)}` }),
    ]) {
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toContain("This unsubscribe link is not valid");
      expect(res.json().error.details.reason).toMatch(/^token_(signature|malformed)$/);
    }
    expect(await marketingEvents(p.subjectId)).toEqual([]);

    const boundary = "----custos-test";
    const multipart = await t.app.inject({
      method: "POST",
      url: `/u/${token}`,
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`,
    });
    expect(multipart.statusCode, multipart.body).toBe(200);
    expect(await marketingEvents(p.subjectId)).toMatchObject([
      { targetId: "email", state: "withdrawn", method: "email" },
    ]);

    // A year and a day later the link has expired (the privacy center still works).
    const old = await service.issueToken(p.subjectId, "sms");
    clock.advance(366 * 24 * 3600 * 1000);
    const expired = await t.app.inject({
      method: "POST",
      url: `/u/${old}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "List-Unsubscribe=One-Click",
    });
    expect(expired.statusCode).toBe(400);
    expect(expired.json().error).toMatchObject({
      code: "validation_failed",
      message: expect.stringContaining("expired"),
      details: { reason: "token_expired" },
    });
  });
});

describe("marketing sends are gated by decisions (CON-9)", () => {
  it("CON-9: a campaign skips and counts subjects whose decision denies the channel; SMS carries the reply-to-unsubscribe text", async () => {
    const consented = await newPlayer("13700137004");
    const notConsented = await newPlayer("13700137005");
    await setMarketingConsent(notConsented.headers, "withdrawn");
    const optedOut = await newPlayer("13700137006");
    await t.app.custosSubscriptions.set(optedOut.subjectId, "sms", { subscribed: false, language: "en" });

    const campaign = await t.app.custosSubscriptions.sendCampaign(
      [consented, notConsented, optedOut].map((p) => ({
        subjectId: p.subjectId,
        channel: "sms" as const,
        locale: "en" as const,
        subject: "Offer",
        text: "Double coins this weekend.",
      })),
    );
    expect(campaign).toEqual({
      sent: 1,
      skipped: 2,
      skippedByReason: { "consent-withdrawn": 1, unsubscribed: 1 },
    });
    const sms = await waitFor(async () =>
      (await outbox(t.app)).find((m) => m.to === "137****7004" && m.body.includes("Double coins")),
    );
    expect(sms.body).toContain("Reply TD to unsubscribe");
    expect((await outbox(t.app)).some((m) => m.to === "137****7006" && m.body.includes("Double coins"))).toBe(
      false,
    );
  });
});
