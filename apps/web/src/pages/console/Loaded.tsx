import type { ReactNode } from "react";
import type { ApiState } from "../../api/use-api.ts";
import { ErrorState, LoadingState } from "../../ui/index.ts";

/** A `useApi` result on a console page: loading, the error with a retry, or `children` drawing the data. */
export const Loaded = <T,>({
  result,
  children,
}: {
  result: ApiState<T> & { reload: () => void };
  children: (data: T) => ReactNode;
}) => {
  if (result.status === "loading") return <LoadingState />;
  if (result.status === "error") return <ErrorState error={result.error} onRetry={result.reload} />;
  return <>{children(result.data)}</>;
};
