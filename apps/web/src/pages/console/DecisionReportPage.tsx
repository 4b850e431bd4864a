import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useApi } from "../../api/use-api.ts";
import { Badge, type Column, EmptyState, ErrorState, LoadingState, Table } from "../../ui/index.ts";
import { PeriodFields, ReportFrame } from "./ReportFrame.tsx";
import { StaffArea } from "./StaffArea.tsx";
import type { Me } from "./staff-api.ts";

/** GET /api/v1/staff/reports/decisions (docs/CONTRACTS.md). */
type Purpose = {
  purposeId: string;
  name: string;
  declared: boolean;
  categories: { category: string; name: string; count: number }[];
  allowedUses: number;
  allowedSensitive: number;
  denied: number;
  reasons: { reason: string; count: number }[];
};
type Report = {
  from: string;
  to: string;
  services: {
    service: string;
    allowedUses: number;
    allowedSensitive: number;
    denied: number;
    purposes: Purpose[];
  }[];
};
type Filters = { from: string; to: string };

/**
 * /console/decision-report: what each of the app's services asked to use, per purpose and category,
 * and why Custos refused (aggregates only).
 */
export const DecisionReportPage = () => <StaffArea>{(me) => <DecisionReport me={me} />}</StaffArea>;

const DecisionReport = ({ me }: { me: Me }) => {
  const { t, i18n } = useTranslation();
  const allowed = me.operations.includes("report.read");
  const [draft, setDraft] = useState<Filters>({ from: "", to: "" });
  const [filters, setFilters] = useState<Filters>(draft);
  const report = useApi<Report>(allowed ? "/api/v1/staff/reports/decisions" : null, filters);

  const number = new Intl.NumberFormat(i18n.language);
  const count = (n: number) => number.format(n);
  // A reason the page has no words for (a newer server) shows as its code.
  const reason = (code: string) => t(`decisionReport.reasons.${code}`, { defaultValue: code });
  /** "name count" pairs in the language's list form, or "none". */
  const counted = <T extends { count: number }>(list: readonly T[], name: (x: T) => string) =>
    list.length === 0
      ? t("decisionReport.none")
      : list.map((x) => `${name(x)} ${count(x.count)}`).join(t("common.listSeparator"));

  const columns: Column<Purpose>[] = [
    {
      id: "purpose",
      header: t("decisionReport.columns.purpose"),
      rowHeader: true,
      cell: (p) =>
        p.declared ? (
          p.name
        ) : (
          <span className="ui-row">
            <span>{p.name}</span>
            <Badge tone="warning">{t("decisionReport.undeclared")}</Badge>
          </span>
        ),
    },
    { id: "allowed", header: t("decisionReport.columns.allowed"), cell: (p) => count(p.allowedUses) },
    {
      id: "categories",
      header: t("decisionReport.columns.categories"),
      cell: (p) =>
        counted(p.categories, (c) => (c.category === "none" ? t("decisionReport.noCategory") : c.name)),
    },
    {
      id: "sensitive",
      header: t("decisionReport.columns.sensitive"),
      cell: (p) => count(p.allowedSensitive),
    },
    { id: "denied", header: t("decisionReport.columns.denied"), cell: (p) => count(p.denied) },
    {
      id: "reasons",
      header: t("decisionReport.columns.reasons"),
      cell: (p) => counted(p.reasons, (r) => reason(r.reason)),
    },
  ];

  const body = () => {
    if (report.status === "loading") return <LoadingState />;
    if (report.status === "error") return <ErrorState error={report.error} onRetry={report.reload} />;
    const r = report.data;
    return (
      <>
        <p className="ui-muted" data-testid="report-range">
          {t("decisionReport.showing", { from: r.from, to: r.to })}
        </p>
        {r.services.length === 0 ? (
          <EmptyState title={t("decisionReport.empty")}>{t("decisionReport.emptyLead")}</EmptyState>
        ) : (
          <div className="ui-stack ui-report-services">
            {r.services.map((s) => (
              <section key={s.service} className="ui-stack" aria-labelledby={`service-${s.service}`}>
                <h2 id={`service-${s.service}`}>{t("decisionReport.service", { service: s.service })}</h2>
                <p className="ui-muted">
                  {t("decisionReport.totals", {
                    allowed: count(s.allowedUses),
                    sensitive: count(s.allowedSensitive),
                    denied: count(s.denied),
                  })}
                </p>
                <Table
                  caption={t("decisionReport.tableCaption", { service: s.service })}
                  captionHidden
                  columns={columns}
                  rows={s.purposes}
                  rowKey={(p) => p.purposeId}
                  rowTone={(p) => (p.declared ? undefined : "highlight")}
                />
              </section>
            ))}
          </div>
        )}
      </>
    );
  };

  return (
    <ReportFrame
      title={t("decisionReport.title")}
      lead={t("decisionReport.lead")}
      notAllowed={allowed ? undefined : t("decisionReport.notAllowed")}
      filtersTitle={t("decisionReport.filters")}
      filters={
        <PeriodFields
          draft={draft}
          setDraft={setDraft}
          labels={{ from: t("decisionReport.from"), to: t("decisionReport.to") }}
        />
      }
      applyLabel={t("decisionReport.apply")}
      onApply={() => setFilters({ ...draft })}
    >
      {allowed ? body() : null}
    </ReportFrame>
  );
};
