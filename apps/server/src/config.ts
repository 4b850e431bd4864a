import path from "node:path";
import { z } from "zod";
import { type OidcProviderConfig, parseOidcProviders } from "./accounts/oidc-config.ts";
import { parseServiceKeys, type ServiceKey } from "./consent/service-auth.ts";

/**
 * Server configuration, parsed once at start-up from the environment. This module is the only
 * reader of `process.env`; everything else receives a `Config`.
 */

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const TRUE_WORDS = ["1", "true", "yes", "on"];
const FALSE_WORDS = ["0", "false", "no", "off", ""];

const flag = (name: string) =>
  z
    .string()
    .max(10)
    .optional()
    .transform((value, ctx) => {
      const v = (value ?? "").trim().toLowerCase();
      if (TRUE_WORDS.includes(v)) return true;
      if (FALSE_WORDS.includes(v)) return false;
      ctx.addIssue({ code: "custom", message: `${name} must be one of 1/true/yes/on or 0/false/no/off` });
      return z.NEVER;
    });

const optionalText = (max: number) =>
  z
    .string()
    .max(max)
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

/** A whole number within [min, max], `fallback` when unset; the message gives the unit and the default. */
const wholeNumber = (name: string, min: number, max: number, fallback: number, unit: string) =>
  z
    .string()
    .max(12)
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return fallback;
      const n = Number(value.trim());
      if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
        ctx.addIssue({
          code: "custom",
          message: `${name} must be a whole number of ${unit} from ${min} to ${max} (default ${fallback})`,
        });
        return z.NEVER;
      }
      return n;
    });

const urlWithProtocols = (name: string, protocols: string[], example: string) =>
  optionalText(2000).superRefine((value, ctx) => {
    if (value === undefined) return;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      ctx.addIssue({ code: "custom", message: `${name} must be a URL such as ${example}` });
      return;
    }
    if (!protocols.includes(parsed.protocol))
      ctx.addIssue({
        code: "custom",
        message: `${name} must start with ${protocols.map((p) => `${p}//`).join(" or ")} (for example ${example})`,
      });
  });

const EnvSchema = z.object({
  PORT: z
    .string()
    .max(10)
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return 8787;
      const n = Number(value.trim());
      if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 0 || n > 65535) {
        ctx.addIssue({ code: "custom", message: "PORT must be a whole number from 0 to 65535 (e.g. 8787)" });
        return z.NEVER;
      }
      return n;
    }),
  HOST: optionalText(255).transform((v) => v ?? "127.0.0.1"),
  DATABASE_URL: urlWithProtocols(
    "DATABASE_URL",
    ["postgres:", "postgresql:"],
    "postgres://user@127.0.0.1:5432/custos",
  ),
  CUSTOS_DATA_DIR: optionalText(1000).transform((v) => v ?? ".custos-data"),
  CUSTOS_MANIFEST: optionalText(1000),
  CUSTOS_MASTER_KEY: optionalText(200).superRefine((value, ctx) => {
    if (value === undefined) return;
    const ok = /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, "base64").length === 32;
    if (!ok)
      ctx.addIssue({
        code: "custom",
        message:
          "CUSTOS_MASTER_KEY must be 32 random bytes in base64 (44 characters); create one with `openssl rand -base64 32`",
      });
  }),
  CUSTOS_MASTER_KEY_FILE: optionalText(1000),
  CUSTOS_SHRED_LOG_FILE: optionalText(1000),
  PUBLIC_URL: urlWithProtocols("PUBLIC_URL", ["http:", "https:"], "https://privacy.example.com"),
  SMTP_URL: urlWithProtocols("SMTP_URL", ["smtp:", "smtps:"], "smtp://127.0.0.1:2525"),
  MAIL_FROM: optionalText(320).superRefine((value, ctx) => {
    if (value === undefined) return;
    const address = /<([^<>]+)>\s*$/.exec(value)?.[1] ?? value;
    if (!z.email().safeParse(address.trim()).success)
      ctx.addIssue({
        code: "custom",
        message: "MAIL_FROM must be an address such as privacy@example.com or Custos <privacy@example.com>",
      });
  }),
  LOG_LEVEL: optionalText(10).superRefine((value, ctx) => {
    if (value !== undefined && !(LOG_LEVELS as readonly string[]).includes(value))
      ctx.addIssue({ code: "custom", message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}` });
  }),
  CUSTOS_LOG_FILE: optionalText(1000),
  CUSTOS_DEV: flag("CUSTOS_DEV"),
  CUSTOS_SAMPLE_APP: z
    .string()
    .max(10)
    .optional()
    .transform((value) => (value === undefined || value.trim() === "" ? undefined : value))
    .pipe(flag("CUSTOS_SAMPLE_APP").optional()),
  TLS_CERT_FILE: optionalText(1000),
  TLS_KEY_FILE: optionalText(1000),
  TRUST_PROXY: optionalText(500).transform((value, ctx): boolean | number | string => {
    if (value === undefined) return false;
    const v = value.toLowerCase();
    // A number is a count of proxy hops to trust (0 = none).
    if (/^\d+$/.test(v)) return Number(v) === 0 ? false : Number(v);
    if (TRUE_WORDS.includes(v)) return true;
    if (FALSE_WORDS.includes(v)) return false;
    if (/^[0-9a-f.:/,\s]+$/i.test(v)) return value;
    ctx.addIssue({
      code: "custom",
      message:
        "TRUST_PROXY must be true/false, a number of proxy hops, or a comma-separated list of proxy IPs/CIDRs",
    });
    return z.NEVER;
  }),
  CUSTOS_OIDC_PROVIDERS: z
    .string()
    .max(50_000)
    .optional()
    .transform((value, ctx) => {
      const parsed = parseOidcProviders(value);
      if (parsed.ok) return parsed.providers;
      for (const problem of parsed.problems)
        ctx.addIssue({ code: "custom", message: `CUSTOS_OIDC_PROVIDERS ${problem}` });
      return z.NEVER;
    }),
  CUSTOS_REAUTH_MINUTES: z
    .string()
    .max(10)
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return 10;
      const n = Number(value.trim());
      if (!/^\d+$/.test(value.trim()) || n < 1 || n > 240) {
        ctx.addIssue({
          code: "custom",
          message: "CUSTOS_REAUTH_MINUTES must be a whole number of minutes from 1 to 240 (default 10)",
        });
        return z.NEVER;
      }
      return n;
    }),
  CUSTOS_PROMPT_COOLDOWN_HOURS: z
    .string()
    .max(10)
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return 48;
      const n = Number(value.trim());
      if (!/^\d+$/.test(value.trim()) || n < 1 || n > 8760) {
        ctx.addIssue({
          code: "custom",
          message: "CUSTOS_PROMPT_COOLDOWN_HOURS must be a whole number of hours from 1 to 8760 (default 48)",
        });
        return z.NEVER;
      }
      return n;
    }),
  CUSTOS_SERVICE_KEYS: z
    .string()
    .max(50_000)
    .optional()
    .transform((value, ctx) => {
      const parsed = parseServiceKeys(value);
      if (parsed.ok) return parsed.keys;
      for (const problem of parsed.problems)
        ctx.addIssue({ code: "custom", message: `CUSTOS_SERVICE_KEYS ${problem}` });
      return z.NEVER;
    }),
  CUSTOS_PSEUDONYM_SECRET: optionalText(200).superRefine((value, ctx) => {
    if (value !== undefined && value.length < 32)
      ctx.addIssue({
        code: "custom",
        message:
          "CUSTOS_PSEUDONYM_SECRET must be at least 32 characters of random text; create one with `openssl rand -base64 32`",
      });
  }),
  CUSTOS_SMS_WEBHOOK_SECRET: optionalText(500).superRefine((value, ctx) => {
    if (value !== undefined && value.length < 32)
      ctx.addIssue({
        code: "custom",
        message:
          "CUSTOS_SMS_WEBHOOK_SECRET must be at least 32 characters shared with the SMS gateway; create one with `openssl rand -base64 32`",
      });
  }),
  CUSTOS_UNSUBSCRIBE_SECRET: optionalText(500).superRefine((value, ctx) => {
    if (value !== undefined && value.length < 32)
      ctx.addIssue({
        code: "custom",
        message:
          "CUSTOS_UNSUBSCRIBE_SECRET must be at least 32 characters of random text; create one with `openssl rand -base64 32`",
      });
  }),
  RATE_LIMIT_MAX: z
    .string()
    .max(10)
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return 600;
      if (!/^\d+$/.test(value.trim()) || Number(value) < 1) {
        ctx.addIssue({
          code: "custom",
          message: "RATE_LIMIT_MAX must be a whole number of requests per minute per client, at least 1",
        });
        return z.NEVER;
      }
      return Number(value);
    }),
  CUSTOS_SERVICE_RATE_LIMIT_MAX: wholeNumber(
    "CUSTOS_SERVICE_RATE_LIMIT_MAX",
    1,
    1_000_000_000,
    60_000,
    "requests per minute per service",
  ),
  CUSTOS_DECISION_CACHE_SUBJECTS: wholeNumber(
    "CUSTOS_DECISION_CACHE_SUBJECTS",
    0,
    10_000_000,
    50_000,
    "subjects (0 turns the cache off)",
  ),
  CUSTOS_DECISION_CACHE_TTL_SECONDS: wholeNumber("CUSTOS_DECISION_CACHE_TTL_SECONDS", 1, 3600, 30, "seconds"),
  CUSTOS_DECISION_COUNT_FLUSH_SECONDS: wholeNumber(
    "CUSTOS_DECISION_COUNT_FLUSH_SECONDS",
    1,
    300,
    5,
    "seconds",
  ),
});

export type LogLevel = (typeof LOG_LEVELS)[number];

/** The pseudonym secret used when CUSTOS_PSEUDONYM_SECRET is unset: public, so for development only. */
export const DEV_PSEUDONYM_SECRET = "custos-development-pseudonym-secret-do-not-use-in-production";

/** The SMS webhook secret in development mode when CUSTOS_SMS_WEBHOOK_SECRET is unset: public, refused outside it. */
export const DEV_SMS_WEBHOOK_SECRET = "custos-development-sms-webhook-secret-not-for-production";

export type Config = {
  port: number;
  host: string;
  /** PostgreSQL URL; undefined means embedded PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Manifest file; undefined means the default manifest shipped with @custos/manifest. */
  manifestPath: string | undefined;
  /** Base64 master key from the environment, when given (it wins over the file). */
  masterKey: string | undefined;
  masterKeyFile: string;
  /**
   * The key-destruction log, kept outside the database and its backups and replayed after a restore,
   * so a shredded subject stays shredded in every backup (docs/adr/0005-vault.md).
   */
  shredLogFile: string;
  /** The public origin people reach the server at (links in mail, CSRF origin check). */
  publicUrl: string;
  /** SMTP server URL; undefined means email only lands in the dev outbox. */
  smtpUrl: string | undefined;
  mailFrom: string;
  logLevel: LogLevel;
  /** A file that receives a copy of every log line (appended), besides standard output; undefined: none. */
  logFile: string | undefined;
  /** Development mode: the dev outbox is visible at /api/v1/dev/outbox and in the console. */
  dev: boolean;
  /**
   * The sample app (/sample-app and /api/v1/sample-app/*): a simulated MuMuPlayer Pro client and its
   * game backend, which decides with @custos/sdk under an in-memory service key. CUSTOS_SAMPLE_APP;
   * default: on in development mode (CUSTOS_DEV, `custos start --demo`), off otherwise.
   */
  sampleApp: boolean;
  tls: { certFile: string; keyFile: string } | undefined;
  trustProxy: boolean | number | string;
  /** Requests per minute per client address. */
  rateLimitMax: number;
  /**
   * Requests per minute per service (callers with a valid service key), instead of the per-address
   * limit: one service sends many requests from few addresses.
   */
  serviceRateLimitMax: number;
  /** The decision state cache: subjects kept (0: off) and the longest a cached state is used. */
  decisionCache: { maxSubjects: number; ttlSeconds: number };
  /** How often the per-minute counts of allowed decisions are written to the audit ledger. */
  decisionCountFlushSeconds: number;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /** How long a fresh identity verification (ACC-4) lasts, in minutes. */
  reauthMinutes: number;
  /** Approved third-party OpenID Connect providers (ACC-2), from CUSTOS_OIDC_PROVIDERS. */
  oidcProviders: OidcProviderConfig[];
  /** Services allowed to call decisions and record consents (CON-1), from CUSTOS_SERVICE_KEYS. */
  serviceKeys: ServiceKey[];
  /** Hours a refused or dismissed prompt stays hidden before it may be shown again (CON-7). */
  promptCooldownHours: number;
  /**
   * The secret per-purpose pseudonyms are derived from (CON-15), from CUSTOS_PSEUDONYM_SECRET;
   * `DEV_PSEUDONYM_SECRET` when unset (development only: set your own in production).
   */
  pseudonymSecret: string;
  /**
   * The secret the SMS gateway signs inbound replies with (CON-9), from CUSTOS_SMS_WEBHOOK_SECRET;
   * `DEV_SMS_WEBHOOK_SECRET` in development mode when unset; undefined otherwise (the webhook refuses).
   */
  smsWebhookSecret: string | undefined;
  /** The key of one-click unsubscribe links (CON-9); undefined: a key derived from the vault. */
  unsubscribeSecret: string | undefined;
};

/** Raised when the environment is invalid; the message names each variable and what it expects. */
export class ConfigError extends Error {
  readonly problems: { variable: string; message: string }[];
  constructor(problems: { variable: string; message: string }[]) {
    super(
      `Invalid configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join("\n")}\nFix the environment variables above and start again.`,
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

/** Parses the environment into a `Config`, failing fast with one line per bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(EnvSchema.shape)) picked[key] = env[key];
  const parsed = EnvSchema.safeParse(picked);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? "environment");
        const message =
          issue.code === "too_big"
            ? `${variable} is too long (at most ${String(issue.maximum)} characters)`
            : issue.message;
        return { variable, message };
      }),
    );
  }
  const e = parsed.data;
  const problems: { variable: string; message: string }[] = [];
  if ((e.TLS_CERT_FILE === undefined) !== (e.TLS_KEY_FILE === undefined))
    problems.push({
      variable: e.TLS_CERT_FILE === undefined ? "TLS_CERT_FILE" : "TLS_KEY_FILE",
      message: "TLS_CERT_FILE and TLS_KEY_FILE must be set together (PEM certificate and private key files)",
    });
  if (!e.CUSTOS_DEV && e.CUSTOS_SMS_WEBHOOK_SECRET === DEV_SMS_WEBHOOK_SECRET)
    problems.push({
      variable: "CUSTOS_SMS_WEBHOOK_SECRET",
      message:
        "CUSTOS_SMS_WEBHOOK_SECRET is the public development value; outside CUSTOS_DEV set a secret of your own (`openssl rand -base64 32`)",
    });
  if (problems.length > 0) throw new ConfigError(problems);

  const scheme = e.TLS_CERT_FILE ? "https" : "http";
  const displayHost = e.HOST === "0.0.0.0" || e.HOST === "::" ? "localhost" : e.HOST;
  const publicUrl = (
    e.PUBLIC_URL ?? `${scheme}://${displayHost.includes(":") ? `[${displayHost}]` : displayHost}:${e.PORT}`
  ).replace(/\/+$/, "");

  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.CUSTOS_DATA_DIR,
    manifestPath: e.CUSTOS_MANIFEST,
    masterKey: e.CUSTOS_MASTER_KEY,
    masterKeyFile: e.CUSTOS_MASTER_KEY_FILE ?? path.join(e.CUSTOS_DATA_DIR, "master.key"),
    shredLogFile: e.CUSTOS_SHRED_LOG_FILE ?? path.join(e.CUSTOS_DATA_DIR, "shred-log.jsonl"),
    publicUrl,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM ?? "Custos <no-reply@localhost>",
    logLevel: (e.LOG_LEVEL as LogLevel | undefined) ?? "info",
    logFile: e.CUSTOS_LOG_FILE,
    dev: e.CUSTOS_DEV,
    sampleApp: e.CUSTOS_SAMPLE_APP ?? e.CUSTOS_DEV,
    tls:
      e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : undefined,
    trustProxy: e.TRUST_PROXY,
    rateLimitMax: e.RATE_LIMIT_MAX,
    serviceRateLimitMax: e.CUSTOS_SERVICE_RATE_LIMIT_MAX,
    decisionCache: {
      maxSubjects: e.CUSTOS_DECISION_CACHE_SUBJECTS,
      ttlSeconds: e.CUSTOS_DECISION_CACHE_TTL_SECONDS,
    },
    decisionCountFlushSeconds: e.CUSTOS_DECISION_COUNT_FLUSH_SECONDS,
    bodyLimit: 1024 * 1024,
    reauthMinutes: e.CUSTOS_REAUTH_MINUTES,
    oidcProviders: e.CUSTOS_OIDC_PROVIDERS,
    serviceKeys: e.CUSTOS_SERVICE_KEYS,
    promptCooldownHours: e.CUSTOS_PROMPT_COOLDOWN_HOURS,
    pseudonymSecret: e.CUSTOS_PSEUDONYM_SECRET ?? DEV_PSEUDONYM_SECRET,
    smsWebhookSecret: e.CUSTOS_SMS_WEBHOOK_SECRET ?? (e.CUSTOS_DEV ? DEV_SMS_WEBHOOK_SECRET : undefined),
    unsubscribeSecret: e.CUSTOS_UNSUBSCRIBE_SECRET,
  };
}
