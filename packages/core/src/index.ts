export * from "./app-error.ts";
export * from "./clock.ts";
export * from "./hash-chain.ts";
export * from "./ids.ts";
export * from "./maskers.ts";
export * from "./masking-policy.ts";
export * from "./permissions.ts";
export * from "./resident-id.ts";
