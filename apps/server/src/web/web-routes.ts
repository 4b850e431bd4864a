import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";

/**
 * Serves the built web app (apps/web/dist): hashed assets under /assets/ with immutable caching,
 * and index.html for every path of the privacy center and the console (SPA fallback).
 */

export const DEFAULT_WEB_DIST = fileURLToPath(new URL("../../../web/dist", import.meta.url));

const SPA_PATHS = ["/center", "/center/*", "/console", "/console/*", "/sample-app"];

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Custos: web app not built</title></head>
<body>
<h1>The web app has not been built yet</h1>
<p>Run <code>npm run build:web</code> in the repository root, then reload this page.
The HTTP API is already available: see <a href="/docs">/docs</a>.</p>
<p lang="zh-CN">网页应用尚未构建。请在仓库根目录运行 <code>npm run build:web</code>，然后刷新本页。</p>
</body>
</html>
`;

export async function registerWebRoutes(
  app: FastifyInstance,
  options: { distDir?: string | undefined },
): Promise<void> {
  const distDir = options.distDir ?? DEFAULT_WEB_DIST;
  const indexFile = path.join(distDir, "index.html");
  const assetsDir = path.join(distDir, "assets");
  const built = existsSync(indexFile);

  app.get("/", { schema: { hide: true } }, async (_request, reply) => reply.redirect("/center", 302));

  if (built && existsSync(assetsDir)) {
    await app.register(fastifyStatic, {
      root: assetsDir,
      prefix: "/assets/",
      decorateReply: false,
      index: false,
      // Vite names assets by content hash, so a file under /assets/ never changes.
      immutable: true,
      maxAge: "365d",
      schemaHide: true,
    });
  }

  const sendIndex = async (reply: FastifyReply) => {
    if (!built || !existsSync(indexFile))
      return reply
        .code(503)
        .type("text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .send(NOT_BUILT_PAGE);
    const html = await readFile(indexFile, "utf8");
    return reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").send(html);
  };

  for (const url of SPA_PATHS)
    app.get(url, { schema: { hide: true } }, async (_request, reply) => sendIndex(reply));
}
