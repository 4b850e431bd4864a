import type { z } from "zod";

/**
 * Parses a setting given as JSON text (an environment variable) against its schema. Empty or missing
 * text is `empty`. Problems are reported as `path: message`, never echoing a value (a setting may hold
 * a secret that must not end up in a log).
 */
export function parseJsonSetting<S extends z.ZodType>(
  text: string | undefined,
  schema: S,
  options: { empty: z.output<S>; invalidJson: string },
): { ok: true; value: z.output<S> } | { ok: false; problems: string[] } {
  if (text === undefined || text.trim() === "") return { ok: true, value: options.empty };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problems: [options.invalidJson] };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
      return `${where}: ${issue.message}`;
    }),
  };
}
