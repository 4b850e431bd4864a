import type { NamedRef, OutboxMessage, PersonalInformationEntry, ThirdPartyEntry } from "../api/types.ts";

export type SensitivityFilter = "all" | "sensitive" | "general";

/** Every purpose that uses at least one category, once each, in first-seen order. */
export const purposesOf = (categories: readonly PersonalInformationEntry[]): NamedRef[] => {
  const seen = new Map<string, NamedRef>();
  for (const c of categories) for (const p of c.purposes) if (!seen.has(p.id)) seen.set(p.id, p);
  return [...seen.values()];
};

export const filterCategories = (
  categories: readonly PersonalInformationEntry[],
  filter: { purpose: string; sensitivity: SensitivityFilter },
): PersonalInformationEntry[] =>
  categories.filter(
    (c) =>
      (filter.purpose === "" || c.purposes.some((p) => p.id === filter.purpose)) &&
      (filter.sensitivity === "all" || (filter.sensitivity === "sensitive") === c.sensitive),
  );

export const isDeviceOnly = (c: PersonalInformationEntry) => c.storage === "device-only";

const normalise = (s: string) => s.normalize("NFKC").toLocaleLowerCase().trim();

/** Recipients whose name, company, kind, purposes or categories contain every word of the query. */
export const searchRecipients = (
  recipients: readonly ThirdPartyEntry[],
  query: string,
): ThirdPartyEntry[] => {
  const words = normalise(query).split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...recipients];
  return recipients.filter((r) => {
    const haystack = normalise(
      [
        r.name,
        r.company,
        r.kindLabel ?? "",
        r.region ?? "",
        ...r.purposes.map((p) => p.name),
        ...(r.sdkPurposes ?? []).map((p) => p.name),
        ...r.categories.map((c) => c.name),
      ].join(" "),
    );
    return words.every((w) => haystack.includes(w));
  });
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const str = (v: unknown) => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

/**
 * Read the dev outbox answer whatever its exact envelope (`{ messages }`, `{ items }` or a bare array)
 * and field names, so the console keeps working while the server's outbox evolves.
 */
export const normaliseOutbox = (body: unknown): OutboxMessage[] => {
  const list = Array.isArray(body)
    ? body
    : isRecord(body)
      ? ((Array.isArray(body.messages)
          ? body.messages
          : Array.isArray(body.items)
            ? body.items
            : []) as unknown[])
      : [];
  return list.filter(isRecord).map((m, index) => ({
    id: str(m.id) || String(index),
    channel: str(m.channel) || "other",
    to: str(m.to ?? m.recipient ?? m.address),
    subject: str(m.subject ?? m.title ?? m.template),
    body: str(m.body ?? m.text ?? m.content),
    sentAt: str(m.sentAt ?? m.createdAt ?? m.at),
  }));
};

export const groupByChannel = (messages: readonly OutboxMessage[]): Map<string, OutboxMessage[]> => {
  const groups = new Map<string, OutboxMessage[]>();
  for (const m of messages) groups.set(m.channel, [...(groups.get(m.channel) ?? []), m]);
  return groups;
};
