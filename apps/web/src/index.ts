import { fileURLToPath } from "node:url";

/** Where the web app's sources live, and where `npm run build:web` writes the built files the server serves. */
export const WEB_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const WEB_DIST_DIR = fileURLToPath(new URL("../dist", import.meta.url));
export const WEB_VITE_CONFIG = fileURLToPath(new URL("../vite.config.ts", import.meta.url));
