import { loadDefaultManifest, type Manifest } from "@custos/manifest";
import { afterAll, beforeAll } from "vitest";
import { createTestDatabase, type TestDatabase } from "../test-database.ts";
import { type ConsentLedger, createConsentLedger } from "./consent-ledger.ts";

/**
 * The consent ledger tests' set-up: a test database, a ledger on it and the default manifest, made
 * before the tests of the calling file or block (then handed to `ready`) and closed after them.
 */
export function useLedger(
  ready: (fixture: { database: TestDatabase; ledger: ConsentLedger; manifest: Manifest }) => void,
): void {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    const ledger = createConsentLedger({ db: database.db });
    ready({ database, ledger, manifest: (await loadDefaultManifest()).manifest });
  });
  afterAll(async () => {
    await database?.close();
  });
}
