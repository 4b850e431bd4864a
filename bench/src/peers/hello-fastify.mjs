// The peer for HTTP benchmarks: a bare Fastify hello-world, as small as Fastify gets. It answers
// GET and POST alike, so a benchmark can send it the very requests it sends Custos.
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.get("/", async () => ({ hello: "world" }));
app.post("/", async () => ({ hello: "world" }));
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
console.log(`listening on http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`);
