import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, apiGet } from "./client.ts";

export type ApiState<T> =
  | { status: "loading"; data?: undefined; error?: undefined }
  | { status: "ok"; data: T; error?: undefined }
  | { status: "error"; data?: undefined; error: ApiError };

const LOADING = { status: "loading" } as const;

/** What a request key's state is now: the state held, if it was fetched for that very key. */
export function stateFor<T>(
  held: { key: string | null; value: ApiState<T> },
  key: string | null,
): ApiState<T> {
  return key !== null && held.key === key ? held.value : LOADING;
}

/**
 * GET a JSON resource in the current UI language (`?lang=`, unless `withLang` is false for an
 * endpoint that takes no language), refetching when the language, path or query change.
 * `path: null` waits (nothing is fetched). Data fetched for another path, language or query is
 * never returned: until the new answer arrives the state is loading (a dialog reopened on another
 * subject never shows the last one's lists, even for one frame).
 */
export const useApi = <T>(
  path: string | null,
  query: Record<string, string | undefined> = {},
  { withLang = true }: { withLang?: boolean } = {},
) => {
  const { i18n } = useTranslation();
  const lang = withLang ? i18n.language : undefined;
  const queryKey = JSON.stringify(query);
  const key = path === null ? null : `${path}\u0000${lang ?? ""}\u0000${queryKey}`;
  const [held, setHeld] = useState<{ key: string | null; value: ApiState<T> }>({ key: null, value: LOADING });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (path === null || key === null) return;
    const controller = new AbortController();
    setHeld({ key, value: LOADING });
    const parsed = JSON.parse(queryKey) as Record<string, string | undefined>;
    apiGet<T>(path, { lang, ...parsed }, controller.signal)
      .then((data) => setHeld({ key, value: { status: "ok", data } }))
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setHeld({
          key,
          value: {
            status: "error",
            error:
              error instanceof ApiError
                ? error
                : new ApiError({ status: 0, code: "unexpected", message: "unexpected", fromServer: false }),
          },
        });
      });
    return () => controller.abort();
  }, [path, key, lang, queryKey, attempt]);

  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { ...stateFor(held, key), reload } as ApiState<T> & { reload: () => void };
};
