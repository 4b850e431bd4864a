/**
 * A real OpenID Connect provider (oidc-provider 9) on a random localhost port, for the ACC-2 tests.
 * One confidential client is registered for the given callback URLs; a fixed test user signs in on a
 * plain login page and grants (some of) the requested scopes, or refuses, on a plain consent page.
 * Tests drive those pages with `driveProvider` (fetch with a cookie jar), browser tests click them.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

export type OidcTestUser = {
  sub: string;
  email: string;
  name: string;
  nickname: string;
  preferred_username: string;
  picture: string;
  birthdate: string;
};

export type OidcFixture = {
  issuer: string;
  clientId: string;
  clientSecret: string;
  user: OidcTestUser;
  close(): Promise<void>;
};

/** Every test user's claims are distinctive strings, so a scan of the database can look for them. */
export function makeTestUser(tag = randomBytes(4).toString("hex")): OidcTestUser {
  return {
    sub: `sub-${tag}-248163264`,
    email: `idp.user.${tag}@mail.example`,
    name: `Ada Provider ${tag}`,
    nickname: `ada-nick-${tag}`,
    preferred_username: `ada_${tag}`,
    picture: `https://img.example/${tag}/ada.png`,
    birthdate: `1987-06-${tag.slice(0, 1) === "0" ? "15" : "16"}`,
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function sendHtml(res: ServerResponse, html: string) {
  res.statusCode = 200;
  res.setHeader("content-type", "text/html; charset=utf-8");
  res.end(html);
}

/** Starts the provider. `users` are keyed by the login name typed on the login page (default: one user). */
export async function startOidcProvider(options: {
  redirectUris: string[];
  user?: OidcTestUser;
}): Promise<OidcFixture> {
  const user = options.user ?? makeTestUser();
  const clientId = "custos-test-app";
  const clientSecret = randomBytes(24).toString("base64url");
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    jwks: { keys: [{ ...privateKey.export({ format: "jwk" }), use: "sig", alg: "RS256", kid: "test-1" }] },
    cookies: { keys: [randomBytes(16).toString("hex")] },
    ttl: {
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      AccessToken: 600,
      IdToken: 600,
      AuthorizationCode: 60,
    },
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name", "nickname", "preferred_username", "picture", "birthdate"],
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx: unknown, id: string) =>
      id === user.sub
        ? {
            accountId: id,
            claims: async () => ({ ...user, email_verified: true }),
          }
        : undefined,
  });
  const providerHandler = provider.callback();

  async function interaction(
    req: IncomingMessage,
    res: ServerResponse,
    uid: string,
    action: string | undefined,
  ) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error("interaction mismatch");
    if (req.method === "GET" && action === undefined) {
      if (details.prompt.name === "login") {
        return sendHtml(
          res,
          page(
            "Test provider: sign in",
            `<form method="post" action="/interaction/${uid}/login"><label for="login">Login name</label> <input id="login" name="login" value="test-user"><button type="submit">Sign in</button></form>`,
          ),
        );
      }
      const scopes = String(details.params.scope ?? "openid").split(" ");
      const boxes = scopes
        .map(
          (s) =>
            `<p><input type="checkbox" id="scope-${escapeHtml(s)}" name="scope" value="${escapeHtml(s)}" checked> <label for="scope-${escapeHtml(s)}">Share ${escapeHtml(s)}</label></p>`,
        )
        .join("");
      return sendHtml(
        res,
        page(
          "Test provider: allow access?",
          `<form method="post" action="/interaction/${uid}/consent">${boxes}<button type="submit" name="decision" value="allow">Allow</button> <button type="submit" name="decision" value="deny">Deny</button></form>`,
        ),
      );
    }
    if (req.method === "POST" && action === "login") {
      const form = await readForm(req);
      if (form.get("login") !== "test-user")
        return sendHtml(res, page("Unknown user", "<p>Try test-user.</p>"));
      return provider.interactionFinished(
        req,
        res,
        { login: { accountId: user.sub } },
        { mergeWithLastSubmission: false },
      );
    }
    if (req.method === "POST" && action === "consent") {
      const form = await readForm(req);
      if (form.get("decision") !== "allow") {
        return provider.interactionFinished(
          req,
          res,
          { error: "access_denied", error_description: "The user refused to share their account." },
          { mergeWithLastSubmission: false },
        );
      }
      const requested = String(details.params.scope ?? "openid").split(" ");
      const chosen = new Set(form.getAll("scope"));
      chosen.add("openid");
      const accountId = details.session?.accountId ?? user.sub;
      const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
      grant.addOIDCScope(requested.filter((s) => chosen.has(s)).join(" "));
      const rejected = requested.filter((s) => !chosen.has(s));
      if (rejected.length > 0) grant.rejectOIDCScope(rejected.join(" "));
      const grantId = await grant.save();
      return provider.interactionFinished(
        req,
        res,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
    }
    res.statusCode = 405;
    res.end();
  }

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|consent))?$/.exec(req.url?.split("?")[0] ?? "");
    if (!m?.[1]) return providerHandler(req, res);
    interaction(req, res, m[1], m[2]).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(`interaction failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  });

  return {
    issuer,
    clientId,
    clientSecret,
    user,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A cookie jar good enough for one provider origin (names only; paths ignored). */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  store(setCookie: string[]) {
    for (const line of setCookie) {
      const [pair] = line.split(";");
      const eq = pair?.indexOf("=") ?? -1;
      if (!pair || eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

export type ConsentChoice = { decision: "allow"; scopes: string[] } | { decision: "deny" };

/**
 * Follows the provider from an authorization URL through the login and consent pages (submitting
 * them like a person would) until it redirects to a URL outside the provider, which it returns.
 */
export async function driveProvider(
  authorizationUrl: string,
  choice: ConsentChoice,
  jar = new CookieJar(),
): Promise<string> {
  const origin = new URL(authorizationUrl).origin;
  let url = authorizationUrl;
  let method: "GET" | "POST" = "GET";
  let body: string | undefined;
  for (let hop = 0; hop < 20; hop++) {
    const res = await fetch(url, {
      method,
      redirect: "manual",
      headers: {
        cookie: jar.header(),
        ...(body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      },
      ...(body ? { body } : {}),
    });
    jar.store(res.headers.getSetCookie());
    const location = res.headers.get("location");
    if (location) {
      const next = new URL(location, url);
      if (next.origin !== origin) return next.toString();
      url = next.toString();
      method = "GET";
      body = undefined;
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`provider answered ${res.status}: ${html.slice(0, 300)}`);
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`provider page without a form: ${html.slice(0, 300)}`);
    url = new URL(action, url).toString();
    method = "POST";
    if (action.endsWith("/login")) body = "login=test-user";
    else {
      const form = new URLSearchParams();
      if (choice.decision === "allow") {
        form.set("decision", "allow");
        for (const s of choice.scopes) form.append("scope", s);
      } else form.set("decision", "deny");
      body = form.toString();
    }
  }
  throw new Error("too many redirects at the provider");
}
