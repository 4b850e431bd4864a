import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, apiGet } from "./client.ts";

export type ApiState<T> =
  | { status: "loading"; data?: undefined; error?: undefined }
  | { status: "ok"; data: T; error?: undefined }
  | { status: "error"; data?: undefined; error: ApiError };

/**
 * GET a JSON resource in the current UI language (`?lang=`, unless `withLang` is false for an
 * endpoint that takes no language), refetching when the language, path or query change.
 * `path: null` waits (nothing is fetched).
 */
export const useApi = <T>(
  path: string | null,
  query: Record<string, string | undefined> = {},
  { withLang = true }: { withLang?: boolean } = {},
) => {
  const { i18n } = useTranslation();
  const lang = withLang ? i18n.language : undefined;
  const [state, setState] = useState<ApiState<T>>({ status: "loading" });
  const [attempt, setAttempt] = useState(0);
  const queryKey = JSON.stringify(query);

  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    setState({ status: "loading" });
    const parsed = JSON.parse(queryKey) as Record<string, string | undefined>;
    apiGet<T>(path, { lang, ...parsed }, controller.signal)
      .then((data) => setState({ status: "ok", data }))
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setState({
          status: "error",
          error:
            error instanceof ApiError
              ? error
              : new ApiError({ status: 0, code: "unexpected", message: "unexpected", fromServer: false }),
        });
      });
    return () => controller.abort();
  }, [path, lang, queryKey, attempt]);

  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { ...state, reload } as ApiState<T> & { reload: () => void };
};
