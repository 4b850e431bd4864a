import { z } from "zod";
import { parseJsonSetting } from "../json-setting.ts";

/**
 * Approved third-party OpenID Connect providers (ACC-2), from `CUSTOS_OIDC_PROVIDERS` (a JSON array)
 * or passed to `createApp({ oidcProviders })`. Each names the claims it may store and where: only
 * fields of the manifest category `third-party-login`. A claim not mapped here is never stored.
 */

export const THIRD_PARTY_LOGIN_CATEGORY = "third-party-login";
export const THIRD_PARTY_LOGIN_FIELDS = ["external-id", "username", "nickname", "avatar", "friends"] as const;
export type ThirdPartyLoginField = (typeof THIRD_PARTY_LOGIN_FIELDS)[number];

const PROVIDER_ID_RE = /^[a-z0-9][a-z0-9-]{0,39}$/;
/** RFC 6749 scope-token characters. */
const SCOPE_RE = /^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/;
const CLAIM_RE = /^[A-Za-z0-9_.:-]{1,100}$/;
const TARGET_RE = new RegExp(`^${THIRD_PARTY_LOGIN_CATEGORY}\\.(${THIRD_PARTY_LOGIN_FIELDS.join("|")})$`);

const isLoopback = (host: string) => host === "localhost" || host === "127.0.0.1" || host === "[::1]";

export const OidcProviderConfigSchema = z
  .object({
    id: z
      .string()
      .regex(PROVIDER_ID_RE, "id must be 1-40 lower-case letters, digits or '-' (it appears in URLs)"),
    name: z.object({
      en: z.string().trim().min(1).max(80),
      "zh-CN": z.string().trim().min(1).max(80),
    }),
    issuer: z
      .string()
      .max(2000)
      .superRefine((value, ctx) => {
        let url: URL;
        try {
          url = new URL(value);
        } catch {
          ctx.addIssue({
            code: "custom",
            message: "issuer must be a URL such as https://accounts.example.com",
          });
          return;
        }
        if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname)))
          ctx.addIssue({
            code: "custom",
            message: "issuer must use https:// (plain http only on localhost)",
          });
      }),
    clientId: z.string().min(1).max(500),
    clientSecret: z.string().min(1).max(2000),
    scopes: z
      .array(z.string().regex(SCOPE_RE, "each scope is one OAuth scope token"))
      .min(1)
      .max(20)
      .default(["openid"])
      .refine((s) => s.includes("openid"), "scopes must include openid"),
    claims: z
      .record(
        z.string().regex(CLAIM_RE, "a claim name is 1-100 letters, digits or _ . : -"),
        z
          .string()
          .regex(
            TARGET_RE,
            `each claim maps to ${THIRD_PARTY_LOGIN_CATEGORY}.<field> with field one of ${THIRD_PARTY_LOGIN_FIELDS.join(", ")}`,
          ),
      )
      .default({}),
  })
  .strict();

export type OidcProviderConfig = z.infer<typeof OidcProviderConfigSchema>;

export const OidcProvidersSchema = z
  .array(OidcProviderConfigSchema)
  .max(20)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    for (const [i, p] of list.entries()) {
      if (seen.has(p.id))
        ctx.addIssue({ code: "custom", path: [i, "id"], message: `provider id ${p.id} is used twice` });
      seen.add(p.id);
    }
  });

/**
 * Parses `CUSTOS_OIDC_PROVIDERS`. Returns the providers or one message per problem (path: message),
 * never echoing a value (a client secret must not end up in a log).
 */
export function parseOidcProviders(
  text: string | undefined,
): { ok: true; providers: OidcProviderConfig[] } | { ok: false; problems: string[] } {
  const parsed = parseJsonSetting(text, OidcProvidersSchema, {
    empty: [],
    invalidJson: 'is not valid JSON; give a JSON array of providers such as [{"id":"example", …}]',
  });
  return parsed.ok ? { ok: true, providers: parsed.value } : parsed;
}

/** The manifest field (of `third-party-login`) a mapping target names. */
export function targetField(target: string): ThirdPartyLoginField {
  return target.slice(THIRD_PARTY_LOGIN_CATEGORY.length + 1) as ThirdPartyLoginField;
}
