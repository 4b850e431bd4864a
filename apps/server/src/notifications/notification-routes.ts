import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorResponses } from "../errors.ts";
import type { Notifier } from "./notifier.ts";

type Deps = { notifier: Pick<Notifier, "listDevOutbox"> };

const OutboxMessage = z.object({
  id: z.uuid(),
  channel: z.enum(["email", "sms", "push", "inbox"]),
  template: z.string().max(64),
  locale: z.string().max(10),
  /** Masked, never the address itself. */
  to: z.string().max(320),
  subject: z.string().max(1000),
  body: z.string().max(20_000),
  status: z.enum(["queued", "sent", "failed", "read"]),
  createdAt: z.iso.datetime(),
});

export const DevOutbox = z.object({ messages: z.array(OutboxMessage) }).meta({ id: "DevOutbox" });

/**
 * GET /api/v1/dev/outbox: messages that a development server did not send anywhere (no SMTP, no SMS
 * or push gateway). Registered only when CUSTOS_DEV is on; otherwise the path answers 404.
 */
export function registerDevOutboxRoutes(app: FastifyInstance, { notifier }: Deps): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    "/api/v1/dev/outbox",
    {
      schema: {
        tags: ["notifications"],
        operationId: "listDevOutbox",
        summary: "List the development outbox (masked recipients)",
        description: "Only on a server started with CUSTOS_DEV=1. Recipients are masked; newest first.",
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: DevOutbox, ...errorResponses },
      },
    },
    async (request, reply) => {
      const rows = await notifier.listDevOutbox(request.query.limit);
      reply.header("cache-control", "no-store");
      return {
        messages: rows.map((m) => ({
          id: m.id,
          channel: m.channel,
          template: m.template,
          locale: m.locale,
          to: m.recipientMasked,
          subject: m.subjectLine,
          body: m.body,
          status: m.status,
          createdAt: m.createdAt.toISOString(),
        })),
      };
    },
  );
}
