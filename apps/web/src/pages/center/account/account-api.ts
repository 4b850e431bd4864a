import { useCallback, useEffect, useState } from "react";
import { ApiError, apiGet, errorFromBody } from "../../../api/client.ts";

/**
 * The account pages' door to the API: unsafe requests carry the CSRF token
 * (GET /api/v1/session/csrf → `x-csrf-token`), and a "session changed" event lets the header
 * update after sign-in and sign-out.
 */

let csrfToken: Promise<string> | undefined;

const fetchCsrf = async (): Promise<string> => {
  const body = await apiGet<{ token: string }>("/api/v1/session/csrf");
  return body.token;
};

export const SESSION_EVENT = "custos:session-changed";
export const announceSessionChange = () => window.dispatchEvent(new Event(SESSION_EVENT));

/** POST/PUT/DELETE JSON with the CSRF header; retries once with a fresh token when it was refused. */
export const apiSend = async <T>(
  method: "POST" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
  retried = false,
): Promise<T> => {
  csrfToken ??= fetchCsrf();
  let token: string;
  try {
    token = await csrfToken;
  } catch (error) {
    csrfToken = undefined;
    throw error;
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: {
        accept: "application/json",
        "x-csrf-token": token,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError({ status: 0, code: "network", message: "network", fromServer: false });
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const error = errorFromBody(response.status, parsed, response.headers.get("x-request-id"));
    const details = error.details as { reason?: string } | undefined;
    if (!retried && error.status === 403 && details?.reason === "csrf_failed") {
      csrfToken = undefined;
      return apiSend<T>(method, path, body, true);
    }
    throw error;
  }
  return parsed as T;
};

export type IssuedCode = {
  verificationId: string;
  channel: "email" | "sms";
  expiresAt: string;
  resendAfterSeconds: number;
  sentTo: string;
};

export type Me = {
  subjectId: string;
  username: string | null;
  status: "active" | "locked" | "cancelled";
  locale: "en" | "zh-CN";
  contacts: { kind: "phone" | "email"; masked: string; verified: boolean }[];
  providers: { id: string; provider: string; linkedAt: string | null }[];
  reauthMethods: string[];
  /** Until when the last "confirm it is you" holds (null: not recently). */
  freshUntil?: string | null;
};

export type SessionItem = {
  id: string;
  kind: "web" | "api";
  method: string;
  device: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  current: boolean;
};

export type MeState = { status: "loading" } | { status: "signed-out" } | { status: "signed-in"; me: Me };

/** The signed-in account (or signed out), refreshed whenever a page announces a session change. */
export const useMe = () => {
  const [state, setState] = useState<MeState>({ status: "loading" });
  const load = useCallback(() => {
    apiGet<Me>("/api/v1/me")
      .then((me) => setState({ status: "signed-in", me }))
      .catch(() => setState({ status: "signed-out" }));
  }, []);
  useEffect(() => {
    load();
    window.addEventListener(SESSION_EVENT, load);
    return () => window.removeEventListener(SESSION_EVENT, load);
  }, [load]);
  return { state, reload: load };
};

/** Where the verify page finds the pending code (router state is lost on reload). */
export const PENDING_KEY = "custos.account.pending";
export type Pending = IssuedCode & { purpose: "register" };

export const savePending = (pending: Pending) => {
  try {
    window.sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  } catch {
    // storage disabled: the router state still carries it for this navigation
  }
};

export const loadPending = (): Pending | undefined => {
  try {
    const raw = window.sessionStorage.getItem(PENDING_KEY);
    return raw ? (JSON.parse(raw) as Pending) : undefined;
  } catch {
    return undefined;
  }
};

export const clearPending = () => {
  try {
    window.sessionStorage.removeItem(PENDING_KEY);
  } catch {
    // nothing stored
  }
};

/** A third-party sign-in provider (GET /api/v1/auth/oidc/providers). */
export type OidcProvider = { id: string; name: string | Record<string, string>; startUrl: string };
export type OidcProviderList = { providers: OidcProvider[]; policyVersion?: string };

/** A provider's name in the page's language (English, then its id, when there is none). */
export const providerName = (p: OidcProvider, language: string): string =>
  typeof p.name === "string" ? p.name : (p.name[language] ?? p.name.en ?? p.id);

/** The server's message for an error (already in the user's language where the server knows it). */
export const messageOf = (error: unknown, fallback: string): string =>
  error instanceof ApiError && error.fromServer ? error.message : fallback;
