import type { DecisionReason } from "@custos/core";
import { type CustosClient, CustosHttpError, createCustosClient } from "@custos/sdk";
import { SERVICE_KEY_HEADER } from "../consent/service-auth.ts";
import type { Localized } from "./sample-app-catalogue.ts";

/**
 * The simulated game backend's link to Custos, as a separate service would have it: the real SDK
 * (@custos/sdk) over HTTP, deciding in-process from its snapshot (kept current by the change stream),
 * plus the two service calls a personalising backend makes: the label with its "why am I seeing
 * this" (POST /api/v1/personalisation/label) and the interest tags it inferred
 * (POST /api/v1/interest-tags). The SDK starts on first use and stops with the app.
 */

export type SampleDecision = {
  purposeId: string;
  allow: boolean;
  reason: DecisionReason;
  /** `snapshot`: decided in-process by the SDK; `server`: the snapshot was stale, asked over HTTP. */
  source: "snapshot" | "server";
  /** How old the SDK's data was (ms since the server was last heard). */
  ageMs: number | null;
};

/** The answer of POST /api/v1/personalisation/label. */
export type LabelAnswer = {
  personalised: boolean;
  label: Localized;
  why: {
    purposes: string[];
    reason: DecisionReason;
    tags: string[];
    setting: { id: string; on: boolean };
    manageUrl: string;
  };
};

export type InferredTag = { id: string; label: Localized };

type Log = {
  warn: (obj: object, msg: string) => void;
};

type Deps = {
  /** The service key (its hash is among the accepted keys). */
  serviceKey: string;
  /** Where Custos is reachable from this process; asked once, on first use. */
  baseUrl: () => string;
  log: Log;
  /** Turns an error into loggable fields (no personal information). */
  serializeError: (err: unknown) => Record<string, unknown>;
  /** Options passed to the SDK (tests shorten its timings). */
  sdkOptions?: { heartbeatMs?: number; maxStalenessMs?: number; reportIntervalMs?: number };
  /** How long inferred tags are not posted again for the same subject and purpose (default 10 min). */
  retagAfterMs?: number;
};

const MAX_TAGGED = 10_000;

export function createSampleAppBackend(deps: Deps) {
  let base: string | undefined;
  let client: CustosClient | undefined;
  let starting: Promise<CustosClient> | undefined;
  let closed = false;
  const retagAfterMs = deps.retagAfterMs ?? 10 * 60_000;
  /** `<subject>:<purpose>` → when its tags were last posted. */
  const tagged = new Map<string, number>();

  const url = () => {
    base ??= deps.baseUrl().replace(/\/+$/, "");
    return base;
  };

  function logError(err: unknown, what: string) {
    if (!closed) deps.log.warn({ err: deps.serializeError(err) }, what);
  }

  /** The started SDK; concurrent first requests share one start, and a failed start is retried later. */
  function sdk(): Promise<CustosClient> {
    if (client) return Promise.resolve(client);
    if (closed) return Promise.reject(new Error("the sample app is shutting down"));
    starting ??= (async () => {
      const c = createCustosClient({
        baseUrl: url(),
        serviceKey: deps.serviceKey,
        startTimeoutMs: 15_000,
        ...deps.sdkOptions,
        onError: (err) => logError(err, "sample app: the Custos SDK recovered from an error"),
      });
      try {
        await c.start();
      } catch (err) {
        starting = undefined;
        throw err;
      }
      if (closed) {
        await c.close();
        throw new Error("the sample app is shutting down");
      }
      client = c;
      return c;
    })();
    return starting;
  }

  async function post<T>(path: string, body: unknown): Promise<T> {
    const res = await fetch(`${url()}${path}`, {
      method: "POST",
      headers: { [SERVICE_KEY_HEADER]: deps.serviceKey, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) {
      let code: string | undefined;
      let message = text.slice(0, 300);
      try {
        const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
        code = parsed.error?.code;
        message = parsed.error?.message ?? message;
      } catch {
        // not the error model
      }
      throw new CustosHttpError(res.status, path, code, message);
    }
    return JSON.parse(text) as T;
  }

  return {
    /** May `purposeId` use `categories` of the subject? The SDK answers (over HTTP when stale). */
    async decide(
      subjectId: string,
      purposeId: string,
      categories: readonly string[],
    ): Promise<SampleDecision> {
      const c = await sdk();
      const stale = c.isStale;
      const ageMs = Number.isFinite(c.ageMs) ? Math.max(0, Math.round(c.ageMs)) : null;
      const d = await c.decideAsync(subjectId, purposeId, categories);
      // Report now rather than within the SDK's interval: a visitor sees each decision in the audit
      // log at once, and nothing is left to report when the server stops (it then refuses requests).
      void c.flushReports();
      return { purposeId, allow: d.allow, reason: d.reason, source: stale ? "server" : "snapshot", ageMs };
    },

    /** The label and "why am I seeing this" Custos gives for a personalised item of this purpose. */
    label(subjectId: string, purposeId: string): Promise<LabelAnswer> {
      return post<LabelAnswer>("/api/v1/personalisation/label", { subjectId, purposeId });
    },

    /**
     * Posts the interest tags the backend inferred, unless it did so lately (a tag posted again only
     * refreshes it). Custos refuses when the purpose may not personalise: then nothing is stored.
     */
    async inferTags(subjectId: string, purposeId: string, tags: readonly InferredTag[]): Promise<void> {
      const key = `${subjectId}:${purposeId}`;
      const at = tagged.get(key);
      if (at !== undefined && Date.now() - at < retagAfterMs) return;
      try {
        await post("/api/v1/interest-tags", { subjectId, purposeId, tags });
      } catch (err) {
        // A refusal (the switch went off a moment ago) is an answer, not a fault.
        if (err instanceof CustosHttpError && err.status === 403) return;
        throw err;
      }
      if (tagged.size >= MAX_TAGGED) tagged.delete(tagged.keys().next().value as string);
      tagged.set(key, Date.now());
    },

    /** The purpose stopped personalising: its tags were deleted, so infer them again when it resumes. */
    forgetTags(subjectId: string, purposeId: string): void {
      tagged.delete(`${subjectId}:${purposeId}`);
    },

    /** What the SDK knows (for tests and health): undefined before the first start. */
    status() {
      return client?.status();
    },

    /** Stops the SDK (its stream and timers) and sends its last report. */
    async close(): Promise<void> {
      closed = true;
      const c = client ?? (await starting?.catch(() => undefined));
      client = undefined;
      await c?.close();
    },
  };
}

export type SampleAppBackend = ReturnType<typeof createSampleAppBackend>;
