export * from "./consent-ledger.ts";
export * from "./consent-repo.ts";
