import { useState } from "react";
import { useTranslation } from "react-i18next";
import { apiGet } from "../../api/client.ts";
import {
  Badge,
  Button,
  Card,
  type Column,
  ErrorState,
  PageHeader,
  Table,
  TextInput,
} from "../../ui/index.ts";
import { StaffArea } from "./StaffArea.tsx";
import { formatDateTime, type MaskedSubject } from "./staff-api.ts";
import { useStaffForm } from "./use-staff-form.ts";

type Row = MaskedSubject["categories"][number]["fields"][number] & { category: string };

/** /console/subjects: look a subject up by id; masked by role, only under an active grant (SEC-2, SEC-8). */
export const SubjectLookupPage = () => <StaffArea>{() => <Lookup />}</StaffArea>;

const Lookup = () => {
  const { t, i18n } = useTranslation();
  const form = useStaffForm({ id: "" });
  const [result, setResult] = useState<MaskedSubject | null>(null);

  const lookUp = form.submit(async (v) => {
    setResult(null);
    setResult(await apiGet<MaskedSubject>(`/api/v1/staff/subjects/${encodeURIComponent(v.id.trim())}`));
  });

  const columns: Column<Row>[] = [
    {
      id: "field",
      header: t("staff.subjects.field"),
      rowHeader: true,
      cell: (r) => `${r.category} · ${r.field}`,
    },
    {
      id: "value",
      header: t("staff.subjects.value"),
      cell: (r) =>
        r.value === null ? (
          <Badge tone="neutral">{t("staff.subjects.hidden")}</Badge>
        ) : (
          <code>{r.value}</code>
        ),
    },
    {
      id: "visibility",
      header: t("staff.subjects.visibility"),
      cell: (r) => t(`staff.subjects.visibilities.${r.visibility}`),
    },
  ];

  return (
    <div className="ui-stack">
      <PageHeader title={t("staff.subjects.title")} lead={t("staff.subjects.lead")} />
      <Card>
        <form className="ui-stack" onSubmit={lookUp}>
          <TextInput label={t("staff.subjects.id")} required maxLength={36} {...form.field("id")} />
          <Button type="submit" disabled={form.busy}>
            {t("staff.subjects.lookUp")}
          </Button>
        </form>
      </Card>
      {form.error ? <ErrorState error={form.error} /> : null}
      {result ? (
        <section className="ui-stack" aria-labelledby="subject-result">
          <h2 className="ui-section-title" id="subject-result">
            {t("staff.subjects.resultTitle")}
          </h2>
          <p className="ui-muted" data-testid="subject-grant">
            {t("staff.subjects.under", {
              purpose: result.purpose,
              date: formatDateTime(result.expiresAt, i18n.language),
            })}
          </p>
          <Table
            caption={t("staff.subjects.caption")}
            columns={columns}
            rows={result.categories.flatMap((c) => c.fields.map((f) => ({ ...f, category: c.category })))}
            rowKey={(r) => `${r.category}.${r.field}`}
          />
        </section>
      ) : null}
    </div>
  );
};
