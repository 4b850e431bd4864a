export * from "./account-repo.ts";
export * from "./account-tables.ts";
export * from "./login-event-repo.ts";
export * from "./otp-repo.ts";
export * from "./session-repo.ts";
export * from "./throttle-repo.ts";
