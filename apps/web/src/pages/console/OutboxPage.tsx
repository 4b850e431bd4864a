import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import type { OutboxMessage } from "../../api/types.ts";
import { useApi } from "../../api/use-api.ts";
import { groupByChannel, normaliseOutbox } from "../../lib/filters.ts";
import {
  Alert,
  Button,
  type Column,
  EmptyState,
  ErrorState,
  LoadingState,
  PageHeader,
  Table,
  Tabs,
} from "../../ui/index.ts";

const KNOWN_CHANNELS = ["email", "sms", "push", "letter"];

export const OutboxPage = () => {
  const { t, i18n } = useTranslation();
  const outbox = useApi<unknown>("/api/v1/dev/outbox", {}, { withLang: false });
  const messages = useMemo(() => (outbox.status === "ok" ? normaliseOutbox(outbox.data) : []), [outbox]);
  const groups = useMemo(() => groupByChannel(messages), [messages]);
  const channelName = (c: string) => t(`outbox.channels.${KNOWN_CHANNELS.includes(c) ? c : "other"}`);
  const formatTime = (iso: string) => {
    const date = new Date(iso);
    return Number.isNaN(date.getTime())
      ? iso
      : new Intl.DateTimeFormat(i18n.language, { dateStyle: "medium", timeStyle: "short" }).format(date);
  };

  const columns: Column<OutboxMessage>[] = [
    { id: "to", header: t("outbox.to"), rowHeader: true, cell: (m) => m.to },
    { id: "subject", header: t("outbox.subject"), cell: (m) => m.subject },
    { id: "body", header: t("outbox.body"), cell: (m) => <pre className="ui-pre">{m.body}</pre> },
    { id: "sentAt", header: t("outbox.sentAt"), cell: (m) => formatTime(m.sentAt) },
  ];

  const devOff = outbox.status === "error" && outbox.error.status === 404;

  return (
    <div className="ui-stack">
      <PageHeader
        title={t("outbox.title")}
        lead={t("outbox.lead")}
        meta={
          outbox.status === "ok" ? (
            <div className="ui-row">
              <span className="ui-muted" aria-live="polite">
                {t("outbox.count", { count: messages.length })}
              </span>
              <Button variant="secondary" size="sm" onClick={outbox.reload}>
                {t("outbox.refresh")}
              </Button>
            </div>
          ) : undefined
        }
      />
      {outbox.status === "loading" ? <LoadingState /> : null}
      {devOff ? (
        <Alert tone="warning" title={t("outbox.devOffTitle")}>
          <p data-testid="outbox-dev-off">{t("outbox.devOffBody")}</p>
        </Alert>
      ) : null}
      {outbox.status === "error" && !devOff ? (
        <ErrorState error={outbox.error} onRetry={outbox.reload} />
      ) : null}
      {outbox.status === "ok" && messages.length === 0 ? (
        <EmptyState title={t("outbox.emptyTitle")}>{t("outbox.emptyBody")}</EmptyState>
      ) : null}
      {outbox.status === "ok" && messages.length > 0 ? (
        <Tabs
          label={t("outbox.channel")}
          tabs={[...groups.entries()].map(([channel, list]) => ({
            id: channel,
            label: `${channelName(channel)} (${list.length})`,
            content: (
              <Table
                caption={channelName(channel)}
                captionHidden
                columns={columns}
                rows={list}
                rowKey={(m) => m.id}
              />
            ),
          }))}
        />
      ) : null}
    </div>
  );
};
