import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import { type Clock, systemClock } from "@custos/core";
import type { LoadedManifest } from "@custos/manifest";
import {
  type AuditLedger,
  createAuditLedger,
  createConsentLedger,
  createJobQueue,
  createManifestRepo,
  createVault,
  createWorker,
  type Database,
  envKeyProvider,
  fileKeyProvider,
  fileShredLog,
  type JobHandler,
  type Vault,
} from "@custos/store";
import cookie from "@fastify/cookie";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance } from "fastify";
import {
  createJsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from "fastify-type-provider-zod";
import { sql } from "kysely";
import { createTransport } from "nodemailer";
import type { Logger } from "pino";
import { registerAccountRoutes } from "./accounts/account-routes.ts";
import type { OidcAccountsPort } from "./accounts/oidc-accounts-port.ts";
import type { OidcProviderConfig } from "./accounts/oidc-config.ts";
import { registerOidc } from "./accounts/oidc-routes.ts";
import { registerAuditRoutes, registerAuditSealing } from "./audit/audit-routes.ts";
import { registerBannerRoutes } from "./banner/banner-routes.ts";
import type { Config } from "./config.ts";
import { type ConsentChanges, createConsentChanges } from "./consent/consent-changes.ts";
import { registerConsentReportRoutes } from "./consent/consent-report-routes.ts";
import { registerConsentRoutes } from "./consent/consent-routes.ts";
import { type ConsentService, createConsentService } from "./consent/consent-service.ts";
import { installDecisionFastPath } from "./consent/decision-fast-path.ts";
import { registerDecisionReportRoutes } from "./consent/decision-report-routes.ts";
import { registerDecisionStreamRoutes } from "./consent/decision-stream-routes.ts";
import { invalidateOnPublish } from "./consent/invalidation.ts";
import { registerPermissionPromptSdkRoutes } from "./consent/prompt-wiring.ts";
import { PERSONALISATION_TAG, registerSettingsRoutes } from "./consent/settings-routes.ts";
import { registerSubscriptionRoutes } from "./consent/subscription-routes.ts";
import { registerErrorHandling } from "./errors.ts";
import { createLogger, lazyChildLogger, serializeError } from "./logging.ts";
import { registerDevOutboxRoutes } from "./notifications/notification-routes.ts";
import { createNotifier, DELIVER_JOB, type MailTransport, type Notifier } from "./notifications/notifier.ts";
import { registerPolicyRoutes } from "./policy/policy-routes.ts";
import { createPolicyService } from "./policy/policy-service.ts";
import { createSampleAppKey, withSampleAppKey } from "./sample-app/sample-app-key.ts";
import { registerSampleAppRoutes, SAMPLE_APP_TAG } from "./sample-app/sample-app-routes.ts";
import { registerCsrf } from "./security/csrf.ts";
import { registerSecurity } from "./security/security-plugins.ts";
import { registerStaffRoutes } from "./staff/staff-routes.ts";
import { registerMetrics } from "./system/metrics.ts";
import { registerSystemRoutes } from "./system/system-routes.ts";
import { registerWebRoutes } from "./web/web-routes.ts";

/** Everything the server is built from. Tests swap any part; nothing else is global. */
export type AppDeps = {
  config: Config;
  database: Database;
  manifest: LoadedManifest;
  clock?: Clock;
  /** The vault; built from the configured master key when absent. */
  vault?: Vault;
  notifier?: Notifier;
  /** A pino logger (already redacting); built from the config when absent. */
  logger?: Logger;
  /** SMTP transport for email; built from SMTP_URL when absent. */
  mailTransport?: MailTransport;
  /** Run the jobs worker inside this process (default true; PGlite allows nothing else). */
  startWorker?: boolean;
  /** How often the worker looks for due jobs, in ms. */
  workerPollMs?: number;
  /**
   * Close `database` when the app closes, after everything in the app that uses it (the jobs
   * worker, the audit sealer, the decision stream). startServer sets it: the app owns its database.
   */
  ownsDatabase?: boolean;
  /** The built web app folder (default apps/web/dist). */
  webDistDir?: string;
  /** Approved OpenID Connect providers (ACC-2); default config.oidcProviders. */
  oidcProviders?: OidcProviderConfig[];
  /** What third-party sign-in needs from accounts; default: the session-service adapter. */
  oidcAccounts?: OidcAccountsPort;
};

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{8,64}$/;

/**
 * The request ids this process makes: 64 random bits chosen at start, then a counter. They are
 * unique across processes and restarts as UUIDs are, and carry nothing about the request. A
 * request id names an exchange in logs and error answers; it is never a credential, so it need
 * not be unguessable, and a counter costs a concatenation where a UUID took about 1% of a
 * decision request's CPU.
 */
const REQUEST_ID_PREFIX = randomBytes(8).toString("hex");
let requestSeq = 0;

/** A client's request id is kept only when it is a plain token: it ends up in logs and headers. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers["x-request-id"];
  if (typeof given === "string" && REQUEST_ID_RE.test(given)) return given;
  requestSeq += 1;
  return `${REQUEST_ID_PREFIX}-${requestSeq.toString(36)}`;
}

/** The services the app was built from, for the CLI (demo data) and tests. */
export type AppServices = {
  db: Database["db"];
  vault: Vault;
  notifier: Notifier;
  clock: Clock;
  manifest: LoadedManifest;
  /** Consent, switches and decisions (one instance per app). */
  consent: ConsentService;
  /** Committed consent changes, for the decision stream. */
  consentChanges: ConsentChanges;
  auditLedger: AuditLedger;
};

declare module "fastify" {
  interface FastifyInstance {
    custos: AppServices;
  }
}

/** The one composition root: builds the Fastify app with every plugin, service and route. */
export async function createApp(deps: AppDeps): Promise<FastifyInstance> {
  const { database, manifest } = deps;
  // The sample app's backend calls back as a service: its key is made now and accepted in memory only.
  const sampleAppKey = deps.config.sampleApp ? createSampleAppKey() : undefined;
  const config = sampleAppKey ? withSampleAppKey(deps.config, sampleAppKey) : deps.config;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger({ level: config.logLevel, file: config.logFile });
  const https = config.tls
    ? { https: { cert: await readFile(config.tls.certFile), key: await readFile(config.tls.keyFile) } }
    : {};

  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.bodyLimit,
    // Fastify accepts a hop count too (proxy-addr), though its types list only boolean and string.
    trustProxy: config.trustProxy as boolean | string,
    requestIdHeader: false,
    genReqId: (req) => requestIdOf(req.headers),
    routerOptions: { maxParamLength: 200 },
    childLoggerFactory: (logger, bindings, options) => lazyChildLogger(logger as Logger, bindings, options),
    ...https,
  }) as unknown as FastifyInstance;

  // Fastify runs onClose hooks last-added first: added before all others, this one runs after them.
  if (deps.ownsDatabase)
    app.addHook("onClose", async () => {
      await database.close();
    });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    done();
  });
  registerErrorHandling(app);

  await app.register(cookie);
  const security = await registerSecurity(app, config);
  registerCsrf(app, { publicUrl: config.publicUrl });

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Custos API",
        version: "1",
        description:
          "Custos: the personal-information protection platform that a privacy policy promises. Errors always have the shape `{ error: { code, message, details?, requestId } }`.",
      },
      servers: [{ url: config.publicUrl }],
      tags: [
        { name: "policy", description: "The published privacy policy, its lists and downloads" },
        {
          name: "accounts",
          description: "Subject accounts: registration, sign-in, sessions, fresh verification",
        },
        { name: "session", description: "Browser sessions and CSRF tokens" },
        { name: "notifications", description: "Messages to people: email, SMS, push, in-app inbox" },
        { name: "system", description: "Health and metrics" },
        { name: "staff", description: "Staff sign-in (MFA), roles, training records, access grants" },
        { name: "audit", description: "The audit log: events and chain verification" },
        {
          name: "consent",
          description: "Consent ledger: give, refuse, withdraw; receipts (CON-1..6, CON-12, CON-13)",
        },
        { name: "decisions", description: "Purpose-binding decisions for services (MAN-5, CON-1, CON-14)" },
        {
          name: "subscriptions",
          description: "Marketing subscriptions per channel and unsubscribing (CON-9)",
        },
        { name: "sdks", description: "Third-party SDK start checks and switches (CON-16)" },
        PERSONALISATION_TAG,
        SAMPLE_APP_TAG,
      ],
    },
    transform: createJsonSchemaTransform({
      skipList: [
        "/docs",
        "/docs/",
        "/docs/json",
        "/docs/yaml",
        "/docs/static/*",
        "/docs/*",
        "/docs/initOAuth",
        "/docs/uiConfig",
      ],
    }),
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, {
    routePrefix: "/docs",
    staticCSP: true,
    // Drop upgrade-insecure-requests on plain-HTTP deployments (it would break localhost).
    transformStaticCSP: (header) =>
      config.publicUrl.startsWith("https:") ? header : header.replace(/\s*upgrade-insecure-requests;?/, ""),
  });

  const metrics = registerMetrics(app);

  // Services.
  const db = database.db;
  const vault =
    deps.vault ??
    createVault({ db, keyProvider: masterKeyProvider(config), shredLog: fileShredLog(config.shredLogFile) });
  const jobs = createJobQueue(db, { clock });
  const notifier =
    deps.notifier ??
    createNotifier({
      db,
      vault,
      jobs,
      transport: deps.mailTransport ?? (config.smtpUrl ? createTransport(config.smtpUrl) : undefined),
      mailFrom: config.mailFrom,
      clock,
    });
  const policyService = createPolicyService({ versions: createManifestRepo(db) });
  const published = await policyService.ensurePublished(manifest);

  // A seal hashes its events on this thread: batches of 1,000 (a few ms) let requests in between
  // them. The database work runs elsewhere (PostgreSQL, or PGlite's own thread: ADR 0011), where
  // each seal's statements cost about as much as hashing 100 events, so larger batches are cheaper.
  // With PGlite one connection does all writing, so batches are sealed by id range without
  // updating each event.
  const pglite = database.kind === "pglite";
  const auditLedger = createAuditLedger({
    db,
    clock,
    maxBatchEvents: 1000,
    sealBy: pglite ? "range" : "stamp",
  });
  const consentChanges = createConsentChanges();
  const consent = createConsentService({
    db,
    manifest: manifest.manifest,
    ledger: createConsentLedger({ db, clock }),
    audit: auditLedger,
    clock,
    publicUrl: config.publicUrl,
    changes: consentChanges,
    cache: {
      maxSubjects: config.decisionCache.maxSubjects,
      ttlMs: config.decisionCache.ttlSeconds * 1000,
    },
    countFlushMs: config.decisionCountFlushSeconds * 1000,
    onBackgroundError: (err) =>
      app.log.warn(
        { err: serializeError(err) },
        "decision audit records could not be written; they are kept and retried",
      ),
  });
  // Before the database closes: writes the allowed-decision counts still in memory.
  app.addHook("preClose", async () => {
    await consent.close();
  });
  app.decorate("custos", { db, vault, notifier, clock, manifest, consent, consentChanges, auditLedger });
  await invalidateOnPublish(app.custos, published, app.log);

  // Routes.
  registerSystemRoutes(app, {
    pingDatabase: async () => {
      await sql`select 1`.execute(db);
    },
    manifest: { version: manifest.manifest.version, hash: manifest.hash },
    metrics,
  });
  registerPolicyRoutes(app, { policyService });
  registerAccountRoutes(app, { db, vault, notifier, clock, manifest, config });
  const { requireStaff } = registerStaffRoutes(app, {
    db,
    vault,
    clock,
    manifest: manifest.manifest,
    ledger: auditLedger,
    publicUrl: config.publicUrl,
  });
  registerAuditRoutes(app, { db, clock, ledger: auditLedger, requireStaff });
  registerConsentRoutes(app, { service: consent, serviceKeys: config.serviceKeys });
  if (process.env.NOFAST !== "1")
    installDecisionFastPath(app, {
      service: consent,
      serviceKeys: config.serviceKeys,
      security,
      serviceRateLimitMax: config.serviceRateLimitMax,
      metrics,
      requestIdOf,
    });
  registerDecisionStreamRoutes(app, {
    db,
    consent,
    changes: consentChanges,
    audit: auditLedger,
    clock,
    serviceKeys: config.serviceKeys,
    manifestHash: manifest.hash,
    listenUrl: database.kind === "postgres" ? config.databaseUrl : undefined,
  });
  registerSubscriptionRoutes(app, {
    db,
    vault,
    manifest: manifest.manifest,
    consent,
    notifier,
    clock,
    config,
  });
  registerPermissionPromptSdkRoutes(app, {
    db,
    clock,
    consent,
    audit: auditLedger,
    serviceKeys: config.serviceKeys,
    requireStaff,
    cooldownHours: config.promptCooldownHours,
  });
  registerConsentReportRoutes(app, { db, manifest: manifest.manifest, clock, requireStaff });
  registerDecisionReportRoutes(app, { db, manifest: manifest.manifest, clock, requireStaff, consent });
  registerSettingsRoutes(app, { config });
  if (sampleAppKey) registerSampleAppRoutes(app, { config, key: sampleAppKey });
  registerOidc(app, {
    database,
    vault,
    manifest,
    clock,
    providers: deps.oidcProviders ?? config.oidcProviders,
    publicUrl: config.publicUrl,
    accounts: deps.oidcAccounts,
  });
  registerBannerRoutes(app, { db, clock, manifest, publicUrl: config.publicUrl, dev: config.dev });
  if (config.dev) registerDevOutboxRoutes(app, { notifier });
  await registerWebRoutes(app, { distDir: deps.webDistDir });

  // The jobs worker runs inside the server process and stops with it.
  if (deps.startWorker !== false) {
    registerAuditSealing(app, { ledger: auditLedger, intervalMs: 5_000 });
    /** Logs a failed run (the worker records it and retries with backoff); never the payload. */
    const logged =
      (handler: JobHandler): JobHandler =>
      async (ctx) => {
        try {
          await handler(ctx);
        } catch (err) {
          const { id, kind, attempts, maxAttempts } = ctx.job;
          app.log.warn({ err: serializeError(err), job: id, kind, attempts, maxAttempts }, "job failed");
          throw err;
        }
      };
    const worker = createWorker({
      db,
      clock,
      pollMs: deps.workerPollMs ?? 500,
      handlers: {
        [DELIVER_JOB]: logged(({ job }) =>
          notifier.deliver(job.payload, { attempt: job.attempts, maxAttempts: job.maxAttempts }),
        ),
      },
      onError: (err) => app.log.error({ err: serializeError(err) }, "jobs worker could not poll"),
    });
    app.addHook("onReady", async () => {
      worker.start();
    });
    app.addHook("onClose", async () => {
      await worker.stop();
    });
  }

  return app;
}

function masterKeyProvider(config: Config) {
  return config.masterKey ? envKeyProvider(config.masterKey) : fileKeyProvider(config.masterKeyFile);
}
