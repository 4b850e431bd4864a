import { randomBytes } from "node:crypto";
import type { Config } from "../config.ts";
import { hashServiceKey, type ServiceKey } from "../consent/service-auth.ts";

/**
 * The sample app's game backend is a service like any other: it calls Custos with a service key.
 * The key is made at start-up and lives only in this process's memory; only its hash joins the
 * accepted service keys, so nothing about it is configured or stored.
 */

export const SAMPLE_APP_SERVICE = "sample-app";

export type SampleAppKey = { key: string; serviceKey: ServiceKey };

export function createSampleAppKey(): SampleAppKey {
  const key = randomBytes(32).toString("base64url");
  return { key, serviceKey: { name: SAMPLE_APP_SERVICE, keyHash: hashServiceKey(key) } };
}

/** The config with the sample app's key among the accepted service keys (a new object). */
export function withSampleAppKey(config: Config, sample: SampleAppKey): Config {
  return { ...config, serviceKeys: [...config.serviceKeys, sample.serviceKey] };
}
