import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useApi } from "../../api/use-api.ts";
import { type Column, EmptyState, ErrorState, LoadingState, Select, Table } from "../../ui/index.ts";
import { ConsentRateChart, SeriesSwatch } from "./ConsentRateChart.tsx";
import { PeriodFields, ReportFrame } from "./ReportFrame.tsx";
import { StaffArea } from "./StaffArea.tsx";
import type { Me } from "./staff-api.ts";

/** GET /api/v1/staff/reports/consent (docs/CONTRACTS.md). */
type Point = {
  bucket: string;
  given: number;
  refused: number;
  withdrawn: number;
  asked: number;
  gave: number;
  givenRate: number | null;
};
type Report = {
  from: string;
  to: string;
  bucket: "day" | "week";
  buckets: string[];
  purposes: {
    purposeId: string;
    name: string;
    consent: "policy" | "separate" | null;
    function: "basic" | "extended" | null;
    series: Point[];
  }[];
};
type Filters = { from: string; to: string; bucket: "day" | "week" };
type Row = Point & { purposeId: string; name: string };

const ALL = "";

/** /console/consent-report: consent rates per purpose over time, as a chart and a table (aggregates only). */
export const ConsentReportPage = () => <StaffArea>{(me) => <ConsentReport me={me} />}</StaffArea>;

const ConsentReport = ({ me }: { me: Me }) => {
  const { t, i18n } = useTranslation();
  const allowed = me.operations.includes("report.read");
  const [draft, setDraft] = useState<Filters>({ from: "", to: "", bucket: "day" });
  const [filters, setFilters] = useState<Filters>(draft);
  const [purpose, setPurpose] = useState(ALL);
  const report = useApi<Report>(allowed ? "/api/v1/staff/reports/consent" : null, filters);

  const percent = new Intl.NumberFormat(i18n.language, { style: "percent", maximumFractionDigits: 1 });
  const formatRate = (rate: number) => percent.format(rate);

  const columns: Column<Row>[] = [
    { id: "purpose", header: t("consentReport.columns.purpose"), rowHeader: true, cell: (r) => r.name },
    { id: "period", header: t("consentReport.columns.period"), cell: (r) => r.bucket },
    { id: "given", header: t("consentReport.columns.given"), cell: (r) => r.given },
    { id: "refused", header: t("consentReport.columns.refused"), cell: (r) => r.refused },
    { id: "withdrawn", header: t("consentReport.columns.withdrawn"), cell: (r) => r.withdrawn },
    { id: "asked", header: t("consentReport.columns.asked"), cell: (r) => r.asked },
    {
      id: "rate",
      header: t("consentReport.columns.rate"),
      cell: (r) => (r.givenRate === null ? t("consentReport.none") : formatRate(r.givenRate)),
    },
  ];

  const body = () => {
    if (report.status === "loading") return <LoadingState />;
    if (report.status === "error") return <ErrorState error={report.error} onRetry={report.reload} />;
    const r = report.data;
    const active = r.purposes.filter((p) => p.series.some((x) => x.given + x.refused + x.withdrawn > 0));
    const shown = purpose === ALL ? active : r.purposes.filter((p) => p.purposeId === purpose);
    const charted = shown.filter((p) => p.series.some((x) => x.asked > 0));
    const rows: Row[] = shown.flatMap((p) =>
      p.series
        .filter((x) => x.given + x.refused + x.withdrawn > 0)
        .map((x) => ({ ...x, purposeId: p.purposeId, name: p.name })),
    );
    const bucketWord = t(`consentReport.bucketWord.${r.bucket}`);
    return (
      <>
        <p className="ui-muted" data-testid="report-range">
          {t("consentReport.showing", { from: r.from, to: r.to, bucket: bucketWord })}
        </p>
        <Select
          label={t("consentReport.purpose")}
          value={purpose}
          onChange={(e) => setPurpose(e.target.value)}
          options={[
            { value: ALL, label: t("consentReport.allWithAnswers") },
            ...r.purposes.map((p) => ({ value: p.purposeId, label: p.name })),
          ]}
        />
        {charted.length === 0 ? (
          <EmptyState title={t("consentReport.noAnswers")}>{t("consentReport.noAnswersLead")}</EmptyState>
        ) : (
          <figure className="ui-chart-figure">
            <figcaption>{t("consentReport.chartTitle")}</figcaption>
            <ConsentRateChart
              title={t("consentReport.chartTitle")}
              desc={t("consentReport.chartDesc", { from: r.from, to: r.to, bucket: bucketWord })}
              labels={r.buckets}
              series={charted.map((p) => ({
                id: p.purposeId,
                name: p.name,
                values: p.series.map((x) => x.givenRate),
              }))}
              formatRate={formatRate}
            />
            <ul className="ui-list-reset ui-row" aria-label={t("consentReport.legend")} data-testid="legend">
              {charted.map((p, index) => (
                <li key={p.purposeId} className="ui-row">
                  <SeriesSwatch index={index} />
                  <span>{p.name}</span>
                </li>
              ))}
            </ul>
          </figure>
        )}
        {rows.length > 0 ? (
          <Table
            caption={t("consentReport.tableCaption")}
            columns={columns}
            rows={rows}
            rowKey={(x) => `${x.purposeId}|${x.bucket}`}
          />
        ) : null}
      </>
    );
  };

  return (
    <ReportFrame
      title={t("consentReport.title")}
      lead={t("consentReport.lead")}
      notAllowed={allowed ? undefined : t("consentReport.notAllowed")}
      filtersTitle={t("consentReport.filters")}
      filters={
        <>
          <PeriodFields
            draft={draft}
            setDraft={setDraft}
            labels={{ from: t("consentReport.from"), to: t("consentReport.to") }}
          />
          <Select
            label={t("consentReport.bucket")}
            value={draft.bucket}
            onChange={(e) => setDraft({ ...draft, bucket: e.target.value === "week" ? "week" : "day" })}
            options={[
              { value: "day", label: t("consentReport.buckets.day") },
              { value: "week", label: t("consentReport.buckets.week") },
            ]}
          />
        </>
      }
      applyLabel={t("consentReport.apply")}
      onApply={() => setFilters({ ...draft })}
    >
      {allowed ? body() : null}
    </ReportFrame>
  );
};
