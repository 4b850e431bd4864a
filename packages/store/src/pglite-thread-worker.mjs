// The entry of PGliteThread's worker (pglite-thread.ts): loads tsx, then the TypeScript worker.
import { register } from "tsx/esm/api";

register();
await import("./pglite-thread-worker.ts");
