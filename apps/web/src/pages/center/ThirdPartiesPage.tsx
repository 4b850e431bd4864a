import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { ThirdPartyEntry, ThirdPartyList } from "../../api/types.ts";
import { useApi } from "../../api/use-api.ts";
import { searchRecipients } from "../../lib/filters.ts";
import {
  Badge,
  Button,
  type Column,
  EmptyState,
  ErrorState,
  LoadingState,
  PageHeader,
  Table,
  TextInput,
} from "../../ui/index.ts";

export const ThirdPartiesPage = () => {
  const { t } = useTranslation();
  const list = useApi<ThirdPartyList>("/api/v1/policy/third-parties");
  const [query, setQuery] = useState("");
  const recipients = list.status === "ok" ? list.data.recipients : [];
  const shown = useMemo(() => searchRecipients(recipients, query), [recipients, query]);
  const sep = t("common.listSeparator");

  const columns: Column<ThirdPartyEntry>[] = [
    {
      id: "name",
      header: t("tp.name"),
      rowHeader: true,
      cell: (r) => (
        <span className="ui-stack">
          <span>{r.name}</span>
          <span className="ui-muted">{r.company}</span>
        </span>
      ),
    },
    {
      id: "kind",
      header: t("tp.kind"),
      cell: (r) => [r.kindLabel, r.relationshipLabel].filter(Boolean).join(sep),
    },
    {
      id: "purposes",
      header: t("tp.purposes"),
      cell: (r) => [...(r.sdkPurposes ?? []), ...r.purposes].map((p) => p.name).join(sep),
    },
    {
      id: "categories",
      header: t("tp.categories"),
      cell: (r) => (
        <ul>
          {r.categories.map((c) => (
            <li key={c.id}>
              {c.name} {c.sensitive ? <Badge tone="sensitive">{t("pi.sensitive")}</Badge> : null}
            </li>
          ))}
        </ul>
      ),
    },
    {
      id: "region",
      header: `${t("tp.region")} / ${t("tp.dataForm")}`,
      cell: (r) => [r.region, r.dataFormLabel].filter(Boolean).join(sep),
    },
    {
      id: "contact",
      header: t("tp.contact"),
      cell: (r) => (
        <span className="ui-stack">
          {r.contact ? <span>{r.contact}</span> : null}
          {r.privacyPolicyUrl ? (
            <a href={r.privacyPolicyUrl} rel="noopener noreferrer" target="_blank">
              {t("tp.privacyPolicy")}
              <span className="ui-visually-hidden"> · {r.name}</span>
            </a>
          ) : null}
        </span>
      ),
    },
    {
      id: "status",
      header: t("tp.status"),
      cell: (r) =>
        r.enabled ? (
          <Badge tone="success">{t("tp.enabled")}</Badge>
        ) : (
          <span className="ui-stack" data-testid={`tp-disabled-${r.id}`}>
            <Badge tone="warning">{t("tp.disabled")}</Badge>
            <span className="ui-muted">{t("tp.disabledNote")}</span>
          </span>
        ),
    },
  ];

  return (
    <div>
      <PageHeader title={list.status === "ok" ? list.data.title : t("tp.title")} lead={t("tp.lead")} />
      {list.status === "loading" ? <LoadingState /> : null}
      {list.status === "error" ? <ErrorState error={list.error} onRetry={list.reload} /> : null}
      {list.status === "ok" && recipients.length === 0 ? (
        <EmptyState title={t("tp.emptyTitle")}>{t("tp.emptyBody")}</EmptyState>
      ) : null}
      {list.status === "ok" && recipients.length > 0 ? (
        <div className="ui-stack">
          <search className="ui-filters">
            <TextInput
              type="search"
              label={t("tp.searchLabel")}
              hint={t("tp.searchHint")}
              value={query}
              maxLength={100}
              onChange={(e) => setQuery(e.target.value)}
              data-testid="tp-search"
            />
            <p className="ui-muted" aria-live="polite" data-testid="tp-count">
              {t("common.resultsCount", { count: shown.length })}
            </p>
          </search>
          {shown.length === 0 ? (
            <EmptyState
              title={t("tp.noMatchTitle", { query: query.trim() })}
              action={
                <Button variant="secondary" onClick={() => setQuery("")}>
                  {t("tp.clearSearch")}
                </Button>
              }
            >
              {t("tp.noMatchBody")}
            </EmptyState>
          ) : (
            <Table
              caption={t("tp.tableCaption")}
              columns={columns}
              rows={shown}
              rowKey={(r) => r.id}
              rowTone={(r) => (r.enabled ? undefined : "muted")}
            />
          )}
        </div>
      ) : null}
    </div>
  );
};
