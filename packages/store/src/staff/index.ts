export * from "./staff-repo.ts";
