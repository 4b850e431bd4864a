import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { ApiError } from "../api/client.ts";
import { Alert } from "./Alert.tsx";
import { Button } from "./Button.tsx";

export const Spinner = ({ label }: { label?: string }) => {
  const { t } = useTranslation();
  return (
    <span className="ui-spinner" role="status">
      <span className="ui-spinner__ring" aria-hidden="true" />
      <span>{label ?? t("common.loading")}</span>
    </span>
  );
};

export const LoadingState = ({ label }: { label?: string }) => (
  <div className="ui-state">
    <Spinner label={label} />
  </div>
);

/** An API failure: the server's own message and request id, or a clear generic message. */
export const ErrorState = ({ error, onRetry }: { error: ApiError; onRetry?: () => void }) => {
  const { t } = useTranslation();
  const message = error.fromServer
    ? error.message
    : error.status === 0
      ? t("common.errorNetwork")
      : t("common.errorUnexpected", { status: error.status });
  return (
    <Alert
      tone="error"
      title={t("common.errorTitle")}
      meta={error.requestId ? t("common.requestId", { id: error.requestId }) : undefined}
      actions={
        onRetry ? (
          <Button variant="secondary" size="sm" onClick={onRetry}>
            {t("common.retry")}
          </Button>
        ) : undefined
      }
    >
      <p>{message}</p>
    </Alert>
  );
};

export const EmptyState = ({
  title,
  children,
  action,
}: {
  title: ReactNode;
  children?: ReactNode;
  action?: ReactNode;
}) => (
  <div className="ui-empty">
    <svg width="40" height="40" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path
        fill="none"
        stroke="#8a94a6"
        strokeWidth="1.5"
        d="M3 7.5 12 3l9 4.5v9L12 21l-9-4.5v-9zM3 7.5 12 12m0 0 9-4.5M12 12v9"
      />
    </svg>
    <p className="ui-empty__title">{title}</p>
    {children ? <p className="ui-empty__body">{children}</p> : null}
    {action}
  </div>
);
