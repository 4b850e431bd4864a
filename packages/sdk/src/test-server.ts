import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { type LoadedManifest, loadDefaultManifest } from "@custos/manifest";
import { createApp, createLogger, loadConfig } from "@custos/server";
import { createTestDatabase, type Database } from "@custos/store";
import type { FastifyInstance } from "fastify";

/**
 * Test-only: a real Custos server over HTTP (`listen` on port 0) on a throw-away database
 * (PGlite, or PostgreSQL when DATABASE_URL is set), for the SDK's tests. No mocks: the SDK talks to
 * the same routes a deployment serves.
 */

export const TEST_SERVICE_KEY = "sdk-test-service-key-0123456789abcdef";

export type TestServer = {
  app: FastifyInstance;
  database: Database;
  manifest: LoadedManifest;
  baseUrl: string;
  /** Stops the server (not the database) and starts a new one on the same port and database. */
  restart(options?: { manifest?: LoadedManifest }): Promise<void>;
  close(): Promise<void>;
  /** Calls the API with the service key. */
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Records a subject's consent decision as the app backend relays it (POST /api/v1/consents). */
  consent(subjectId: string, input: { purposeId?: string; policy?: true; state: string }): Promise<void>;
};

/** Logs nothing to the console; lines go to the test run's log file (the SEC-6 scan) when there is one. */
const quiet = (file: string | undefined) =>
  createLogger({
    level: "info",
    destination: new Writable({
      write(_chunk, _enc, done) {
        done();
      },
    }),
    file,
  });

export async function startTestServer(options: { manifest?: LoadedManifest } = {}): Promise<TestServer> {
  let manifest = options.manifest ?? (await loadDefaultManifest());
  const database = await createTestDatabase();
  const config = loadConfig({
    CUSTOS_MASTER_KEY: randomBytes(32).toString("base64"),
    PUBLIC_URL: "http://custos.test",
    CUSTOS_DEV: "1",
    CUSTOS_SERVICE_KEYS: JSON.stringify([
      { name: "sdk-test", keyHash: createHash("sha256").update(TEST_SERVICE_KEY).digest("hex") },
    ]),
    RATE_LIMIT_MAX: "1000000",
    ...(process.env.CUSTOS_LOG_FILE ? { CUSTOS_LOG_FILE: process.env.CUSTOS_LOG_FILE } : {}),
  });
  const build = () =>
    createApp({
      config,
      database,
      manifest,
      logger: quiet(config.logFile),
      webDistDir: "/nonexistent/custos-web-dist",
      startWorker: false,
    });
  let app = await build();
  await app.listen({ port: 0, host: "127.0.0.1" });
  const port = (app.server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;

  const server: TestServer = {
    get app() {
      return app;
    },
    database,
    get manifest() {
      return manifest;
    },
    baseUrl,
    async restart(next = {}) {
      await app.close();
      if (next.manifest) manifest = next.manifest;
      app = await build();
      await app.listen({ port, host: "127.0.0.1" });
    },
    async close() {
      await app.close();
      await database.close();
    },
    async call<T>(method: string, path: string, body?: unknown) {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          "x-custos-service-key": TEST_SERVICE_KEY,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    async consent(subjectId, input) {
      const res = await server.call("POST", "/api/v1/consents", {
        subjectId,
        ...input,
        noticeVersion: manifest.manifest.version,
        language: "en",
        method: "app",
      });
      if (res.status !== 201) throw new Error(`consent failed: ${res.status} ${JSON.stringify(res.body)}`);
    },
  };
  return server;
}

export const newSubjectId = (): string => randomUUID();
