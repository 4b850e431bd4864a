export * from "./audit-ledger.ts";
export * from "./audit-repo.ts";
export * from "./audit-verify.ts";
export * from "./decision-report-repo.ts";
