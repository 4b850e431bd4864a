import { ApiError, apiGet } from "../../api/client.ts";
import { apiSend } from "../center/account/account-api.ts";

/**
 * What the sample page calls: the simulated game backend (GET /api/v1/sample-app/*, decided by the
 * Custos SDK), and the platform's own APIs that an app calls for its player (consents, device
 * permissions, prompts, settings).
 */

export type Lang = "en" | "zh-CN";

export type SampleDecision = {
  purposeId: string;
  allow: boolean;
  reason: string;
  source: "snapshot" | "server";
  ageMs: number | null;
};

export type Why = {
  purposeId: string;
  reason: string;
  tags: { id: string; label: string }[];
  setting: { id: string; on: boolean };
  manageUrl: string;
};

export type Feed = {
  personalised: boolean;
  label: string;
  decision: SampleDecision;
  why: Why | null;
  items: {
    id: string;
    kind: "video" | "guide" | "event" | "live";
    title: string;
    personalised: boolean;
    label: string;
    because: string | null;
  }[];
};

export type Ad = {
  personalised: boolean;
  label: string;
  decision: SampleDecision;
  why: Why | null;
  ad: { id: string; title: string; body: string; advertiser: string };
};

export type Nearby = {
  decision: SampleDecision;
  players: { handle: string; distanceKm: number; game: string }[];
};

/** The details of the location feature's 403. */
export type NearbyRefusal = {
  needs: "consent" | "permission";
  purposeId: string;
  permissionId: string;
  decision: SampleDecision;
};

export type PermissionState = "granted" | "denied" | "revoked" | "not-asked";
export type PermissionsView = {
  noticeVersion: string;
  permissions: {
    permissionId: string;
    name: string;
    notice: string;
    noticeHash: string;
    platformNames: string[];
    sensitive: boolean;
    refusalImpact: string;
    purposes: { purposeId: string; name: string }[];
    state: PermissionState;
  }[];
};

export type ShouldShow = { show: boolean; reason: string; nextAt: string | null; cooldownHours: number };

export type SettingsView = {
  settings: { id: string; name: string; on: boolean; offMeans: string }[];
};

export type PromptKind = "purpose" | "permission";
export type PromptOutcome = "accepted" | "refused" | "dismissed";

export const shouldShow = (kind: PromptKind, id: string) =>
  apiGet<ShouldShow>(`/api/v1/me/prompts/${kind}/${encodeURIComponent(id)}/should-show`);

/** Logs how a prompt was answered (the cool-down of CON-7 starts on refused and dismissed). */
export const recordPrompt = (kind: PromptKind, id: string, outcome: PromptOutcome, language: Lang) =>
  apiSend("POST", `/api/v1/me/prompts/${kind}/${encodeURIComponent(id)}`, { outcome, language });

/** Reports the system prompt's answer with the purpose notice that was shown before it (CON-10). */
export const reportPermission = (
  permission: PermissionsView["permissions"][number],
  state: "granted" | "denied" | "revoked",
  language: Lang,
) =>
  apiSend("POST", "/api/v1/me/permissions", {
    permission: permission.permissionId,
    state,
    language,
    ...(state === "revoked" ? {} : { noticeShown: { language, noticeHash: permission.noticeHash } }),
    ...(permission.platformNames[0] ? { platformName: permission.platformNames[0] } : {}),
  });

export const recordConsent = (
  purposeId: string,
  state: "given" | "refused" | "withdrawn",
  noticeVersion: string,
  language: Lang,
) => apiSend("POST", "/api/v1/me/consents", { purposeId, state, noticeVersion, language, method: "app" });

export const setSetting = (id: string, on: boolean, language: Lang) =>
  apiSend<SettingsView>("PUT", `/api/v1/me/settings/${encodeURIComponent(id)}`, { on, language });

/** The location feature: the players, or what is missing. */
export const fetchNearby = async (
  lang: Lang,
): Promise<{ ok: true; nearby: Nearby } | { ok: false; refusal: NearbyRefusal }> => {
  try {
    return { ok: true, nearby: await apiGet<Nearby>("/api/v1/sample-app/nearby", { lang }) };
  } catch (error) {
    if (error instanceof ApiError && error.status === 403 && error.details)
      return { ok: false, refusal: error.details as NearbyRefusal };
    throw error;
  }
};

/**
 * Asks again until `done` holds or `ms` pass: a change recorded a moment ago reaches the game
 * backend's SDK over its change stream, usually within milliseconds.
 */
export const refetchUntil = async <T>(
  load: () => Promise<T>,
  done: (value: T) => boolean,
  ms = 3000,
): Promise<T> => {
  const started = Date.now();
  for (;;) {
    const value = await load();
    if (done(value) || Date.now() - started > ms) return value;
    await new Promise((resolve) => window.setTimeout(resolve, 150));
  }
};
