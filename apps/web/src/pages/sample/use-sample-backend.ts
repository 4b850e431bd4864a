import { useCallback, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { type ApiError, apiGet, asApiError } from "../../api/client.ts";
import { type Ad, type Feed, type Lang, refetchUntil, type SampleDecision } from "./sample-api.ts";

export type Loaded<T> =
  | { status: "loading" }
  | { status: "ok"; data: T }
  | { status: "error"; error: ApiError };

export type Expectation = { feed?: (feed: Feed) => boolean; ad?: (ad: Ad) => boolean };

/**
 * The feed and the ad slot from the simulated game backend. `refresh(expect)` asks again; with an
 * expectation (after the player changed a consent or a switch) it keeps asking for up to 3 s until
 * the backend's SDK has the change. The page also refreshes when it comes back into view.
 */
export const useSampleBackend = (enabled: boolean, onDecision: (decision: SampleDecision) => void) => {
  const { i18n } = useTranslation();
  const lang: Lang = i18n.language === "zh-CN" ? "zh-CN" : "en";
  const [feed, setFeed] = useState<Loaded<Feed>>({ status: "loading" });
  const [ad, setAd] = useState<Loaded<Ad>>({ status: "loading" });
  const [updating, setUpdating] = useState(false);
  const latest = useRef(0);
  const report = useRef(onDecision);
  report.current = onDecision;

  const refresh = useCallback(
    async (expect: Expectation = {}) => {
      const seq = ++latest.current;
      setUpdating(true);
      const load = async <T extends { decision: SampleDecision }>(
        path: string,
        done: ((value: T) => boolean) | undefined,
        set: (state: Loaded<T>) => void,
      ) => {
        try {
          const value = await refetchUntil(() => apiGet<T>(path, { lang }), done ?? (() => true));
          if (seq !== latest.current) return;
          set({ status: "ok", data: value });
          report.current(value.decision);
        } catch (error) {
          if (seq === latest.current) set({ status: "error", error: asApiError(error) });
        }
      };
      await Promise.all([
        load<Feed>("/api/v1/sample-app/feed", expect.feed, setFeed),
        load<Ad>("/api/v1/sample-app/ad", expect.ad, setAd),
      ]);
      if (seq === latest.current) setUpdating(false);
    },
    [lang],
  );

  useEffect(() => {
    if (enabled) void refresh();
  }, [enabled, refresh]);

  useEffect(() => {
    if (!enabled) return;
    const again = () => {
      if (document.visibilityState === "visible") void refresh();
    };
    window.addEventListener("focus", again);
    document.addEventListener("visibilitychange", again);
    return () => {
      window.removeEventListener("focus", again);
      document.removeEventListener("visibilitychange", again);
    };
  }, [enabled, refresh]);

  return { feed, ad, refresh, updating };
};
