export * from "./consent-fixtures.ts";
export * from "./consent-ledger.ts";
export * from "./consent-repo.ts";
export * from "./consent-report-repo.ts";
export * from "./interest-tags-repo.ts";
export * from "./prompts-repo.ts";
