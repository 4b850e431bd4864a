import type { Clock } from "@custos/core";
import { type AuditLedger, createConsentLedger, type DB } from "@custos/store";
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import type { RequireStaff } from "../staff/staff-routes.ts";
import type { ConsentService } from "./consent-service.ts";
import { registerPermissionRoutes } from "./permission-routes.ts";
import { createPermissionService } from "./permission-service.ts";
import { registerPromptRoutes } from "./prompt-routes.ts";
import { createPromptService } from "./prompt-service.ts";
import { registerSdkStartRoutes } from "./sdk-start-routes.ts";
import { createSdkStartService } from "./sdk-start-service.ts";
import type { ServiceKey } from "./service-auth.ts";

type Deps = {
  db: Kysely<DB>;
  clock: Clock;
  /** The app's one consent service: every grant and revocation goes through it. */
  consent: ConsentService;
  audit: AuditLedger;
  serviceKeys: readonly ServiceKey[];
  requireStaff: RequireStaff;
  /** CUSTOS_PROMPT_COOLDOWN_HOURS (CON-7). */
  cooldownHours: number;
};

/**
 * Device permissions (CON-10), prompts and their cool-down (CON-7) and third-party SDK start checks
 * (CON-16): builds their services on the app's consent service and registers their routes.
 */
export function registerPermissionPromptSdkRoutes(app: FastifyInstance, deps: Deps): void {
  const { db, clock, consent, serviceKeys } = deps;
  const manifest = consent.manifest;
  const permissions = createPermissionService({ db, manifest, consent, clock });
  const prompts = createPromptService({
    db,
    manifest,
    consent,
    // Read only: the time of the latest refusal or withdrawal; writes go through `consent`.
    ledger: createConsentLedger({ db, clock }),
    clock,
    cooldownHours: deps.cooldownHours,
  });
  const sdks = createSdkStartService({ db, manifest, consent, audit: deps.audit, clock });
  registerPermissionRoutes(app, { permissions, serviceKeys });
  registerPromptRoutes(app, { prompts, serviceKeys });
  registerSdkStartRoutes(app, { sdks, serviceKeys, requireStaff: deps.requireStaff });
}
