import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { PersonalInformationEntry, PersonalInformationList } from "../../api/types.ts";
import { useApi } from "../../api/use-api.ts";
import { filterCategories, isDeviceOnly, purposesOf, type SensitivityFilter } from "../../lib/filters.ts";
import {
  Badge,
  Button,
  Card,
  type Column,
  EmptyState,
  ErrorState,
  LoadingState,
  PageHeader,
  Select,
  Table,
  Tabs,
} from "../../ui/index.ts";

const CategoryBadges = ({ c }: { c: PersonalInformationEntry }) => {
  const { t } = useTranslation();
  return (
    <span className="ui-row">
      {c.sensitive ? <Badge tone="sensitive">{t("pi.sensitive")}</Badge> : null}
      {isDeviceOnly(c) ? <Badge tone="info">{t("pi.deviceOnly")}</Badge> : null}
      {c.children ? <Badge tone="warning">{t("pi.children")}</Badge> : null}
    </span>
  );
};

const CategoryCard = ({ c }: { c: PersonalInformationEntry }) => {
  const { t } = useTranslation();
  return (
    <Card
      as="li"
      headingLevel={2}
      title={c.name}
      aside={<CategoryBadges c={c} />}
      tone={c.sensitive ? "highlight" : "default"}
    >
      <div
        className="ui-stack"
        data-testid={`pi-${c.id}`}
        data-sensitive={c.sensitive}
        data-storage={c.storage}
      >
        <p className="ui-muted">{c.description}</p>
        <dl>
          <dt>{t("pi.items")}</dt>
          <dd>{c.items.join(t("common.listSeparator"))}</dd>
          {c.purposes.length > 0 ? (
            <>
              <dt>{t("pi.purposes")}</dt>
              <dd>{c.purposes.map((p) => p.name).join(t("common.listSeparator"))}</dd>
            </>
          ) : null}
          {c.sensitive && c.necessity ? (
            <>
              <dt>{t("pi.necessity")}</dt>
              <dd>{c.necessity}</dd>
            </>
          ) : null}
          {c.sensitive && c.impact ? (
            <>
              <dt>{t("pi.impact")}</dt>
              <dd>{c.impact}</dd>
            </>
          ) : null}
          <dt>{t("pi.storage")}</dt>
          <dd>
            {isDeviceOnly(c)
              ? t("pi.deviceOnlyNote")
              : [t("pi.storageServer"), c.region].filter(Boolean).join(t("common.listSeparator"))}
          </dd>
          {!isDeviceOnly(c) && c.retentionLabel ? (
            <>
              <dt>{t("pi.retention")}</dt>
              <dd>{c.retentionLabel}</dd>
            </>
          ) : null}
        </dl>
      </div>
    </Card>
  );
};

export const PersonalInformationPage = () => {
  const { t } = useTranslation();
  const list = useApi<PersonalInformationList>("/api/v1/policy/personal-information");
  const [purpose, setPurpose] = useState("");
  const [sensitivity, setSensitivity] = useState<SensitivityFilter>("all");

  const categories = list.status === "ok" ? list.data.categories : [];
  const purposes = useMemo(() => purposesOf(categories), [categories]);
  const shown = useMemo(
    () => filterCategories(categories, { purpose, sensitivity }),
    [categories, purpose, sensitivity],
  );
  const sensitiveCount = categories.filter((c) => c.sensitive).length;

  const columns: Column<PersonalInformationEntry>[] = [
    {
      id: "name",
      header: t("pi.category"),
      rowHeader: true,
      cell: (c) => (
        <span className="ui-stack">
          <span>{c.name}</span>
          <CategoryBadges c={c} />
        </span>
      ),
    },
    {
      id: "items",
      header: t("pi.items"),
      cell: (c) => (
        <ul>
          {c.items.map((item) => (
            <li key={item}>{item}</li>
          ))}
        </ul>
      ),
    },
    {
      id: "purposes",
      header: t("pi.purposes"),
      cell: (c) => c.purposes.map((p) => p.name).join(t("common.listSeparator")),
    },
    {
      id: "necessity",
      header: `${t("pi.necessity")} / ${t("pi.impact")}`,
      cell: (c) =>
        c.sensitive ? (
          <span className="ui-stack">
            <span>{c.necessity}</span>
            <span className="ui-muted">{c.impact}</span>
          </span>
        ) : (
          "—"
        ),
    },
    {
      id: "retention",
      header: t("pi.retention"),
      cell: (c) => (isDeviceOnly(c) ? t("pi.deviceOnlyNote") : (c.retentionLabel ?? "")),
    },
  ];

  const clear = () => {
    setPurpose("");
    setSensitivity("all");
  };

  return (
    <div>
      <PageHeader
        title={list.status === "ok" ? list.data.title : t("pi.title")}
        lead={t("pi.lead")}
        meta={
          list.status === "ok" ? (
            <p className="ui-muted" data-testid="pi-summary">
              {t("pi.summary", { total: categories.length, sensitive: sensitiveCount })}
            </p>
          ) : undefined
        }
      />
      {list.status === "loading" ? <LoadingState /> : null}
      {list.status === "error" ? <ErrorState error={list.error} onRetry={list.reload} /> : null}
      {list.status === "ok" ? (
        <>
          <form className="ui-filters" aria-label={t("pi.filters")} onSubmit={(e) => e.preventDefault()}>
            <Select
              label={t("pi.filterPurpose")}
              value={purpose}
              onChange={(e) => setPurpose(e.target.value)}
              options={[
                { value: "", label: t("common.all") },
                ...purposes.map((p) => ({ value: p.id, label: p.name })),
              ]}
              data-testid="filter-purpose"
            />
            <Select
              label={t("pi.filterSensitivity")}
              value={sensitivity}
              onChange={(e) => setSensitivity(e.target.value as SensitivityFilter)}
              options={[
                { value: "all", label: t("pi.sensitivityAll") },
                { value: "sensitive", label: t("pi.sensitivitySensitive") },
                { value: "general", label: t("pi.sensitivityGeneral") },
              ]}
              data-testid="filter-sensitivity"
            />
            <p className="ui-muted" aria-live="polite">
              {t("common.resultsCount", { count: shown.length })}
            </p>
          </form>
          {shown.length === 0 ? (
            <EmptyState
              title={t("pi.noMatchTitle")}
              action={
                <Button variant="secondary" onClick={clear}>
                  {t("pi.clearFilters")}
                </Button>
              }
            >
              {t("pi.noMatchBody")}
            </EmptyState>
          ) : (
            <Tabs
              label={t("pi.viewLabel")}
              tabs={[
                {
                  id: "cards",
                  label: t("pi.viewCards"),
                  content: (
                    <ul className="ui-grid ui-grid--wide ui-list-reset" data-testid="pi-cards">
                      {shown.map((c) => (
                        <CategoryCard key={c.id} c={c} />
                      ))}
                    </ul>
                  ),
                },
                {
                  id: "table",
                  label: t("pi.viewTable"),
                  content: (
                    <Table
                      caption={t("pi.tableCaption")}
                      columns={columns}
                      rows={shown}
                      rowKey={(c) => c.id}
                      rowTone={(c) => (c.sensitive ? "highlight" : undefined)}
                    />
                  ),
                },
              ]}
            />
          )}
        </>
      ) : null}
    </div>
  );
};
