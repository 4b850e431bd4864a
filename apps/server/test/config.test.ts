import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected loadConfig to fail");
}

describe("loadConfig", () => {
  it("applies defaults for an empty environment", () => {
    const config = loadConfig({});
    expect(config.port).toBe(8787);
    expect(config.host).toBe("127.0.0.1");
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toBe(".custos-data");
    expect(config.masterKeyFile).toBe(".custos-data/master.key");
    expect(config.publicUrl).toBe("http://127.0.0.1:8787");
    expect(config.smtpUrl).toBeUndefined();
    expect(config.dev).toBe(false);
    expect(config.tls).toBeUndefined();
  });

  it("reads every variable", () => {
    const key = randomBytes(32).toString("base64");
    const config = loadConfig({
      PORT: "9000",
      HOST: "0.0.0.0",
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/custos",
      CUSTOS_DATA_DIR: "/var/lib/custos",
      CUSTOS_MANIFEST: "/etc/custos/manifest.yaml",
      CUSTOS_MASTER_KEY: key,
      PUBLIC_URL: "https://privacy.example.com/",
      SMTP_URL: "smtp://127.0.0.1:2525",
      MAIL_FROM: "Privacy <privacy@example.com>",
      LOG_LEVEL: "warn",
      CUSTOS_DEV: "true",
      TLS_CERT_FILE: "/etc/tls/cert.pem",
      TLS_KEY_FILE: "/etc/tls/key.pem",
      TRUST_PROXY: "1",
      RATE_LIMIT_MAX: "50",
    });
    expect(config).toMatchObject({
      port: 9000,
      host: "0.0.0.0",
      masterKey: key,
      masterKeyFile: "/var/lib/custos/master.key",
      publicUrl: "https://privacy.example.com",
      dev: true,
      tls: { certFile: "/etc/tls/cert.pem", keyFile: "/etc/tls/key.pem" },
      trustProxy: 1,
      rateLimitMax: 50,
      logLevel: "warn",
    });
  });

  it("a bad PORT fails fast naming the variable and the expectation", () => {
    expect(problemsOf({ PORT: "eighty" })).toMatch(/PORT: PORT must be a whole number from 0 to 65535/);
    expect(problemsOf({ PORT: "70000" })).toMatch(/PORT/);
  });

  it("a bad master key says how to make a good one, and never echoes the value", () => {
    const message = problemsOf({ CUSTOS_MASTER_KEY: "c2hvcnQta2V5" });
    expect(message).toMatch(/CUSTOS_MASTER_KEY: .*32 random bytes in base64.*openssl rand -base64 32/);
    expect(message).not.toContain("c2hvcnQta2V5");
  });

  it("lists every bad variable at once", () => {
    const message = problemsOf({
      DATABASE_URL: "mysql://x",
      LOG_LEVEL: "loud",
      SMTP_URL: "http://mail",
      CUSTOS_DEV: "maybe",
    });
    expect(message).toMatch(/DATABASE_URL: .*postgres:\/\//);
    expect(message).toMatch(/LOG_LEVEL: .*fatal, error, warn, info/);
    expect(message).toMatch(/SMTP_URL: .*smtp:\/\//);
    expect(message).toMatch(/CUSTOS_DEV: /);
  });

  it("TLS needs both the certificate and the key", () => {
    expect(problemsOf({ TLS_CERT_FILE: "/tmp/cert.pem" })).toMatch(/TLS_KEY_FILE: .*set together/);
  });
});
