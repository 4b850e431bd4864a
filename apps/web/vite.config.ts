import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));
const apiTarget = "http://127.0.0.1:8787";

/**
 * The web app (privacy center and staff console). Built into apps/web/dist, which the server serves.
 * The output must run under a strict Content-Security-Policy: no inline scripts, no inline styles,
 * so the module-preload polyfill (an inline helper in some setups) is turned off.
 */
export default defineConfig({
  root,
  base: "/",
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("./dist", import.meta.url)),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    port: 5173,
    proxy: {
      "/api": apiTarget,
      "/policy": apiTarget,
      "/openapi.json": apiTarget,
      "/docs": apiTarget,
    },
  },
});
