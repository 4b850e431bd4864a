export * from "./load.ts";
export { checkManifest, formatPath, isRealIdentityCategory, type ManifestProblem } from "./load-checks.ts";
export * from "./render/index.ts";
export * from "./schema.ts";
