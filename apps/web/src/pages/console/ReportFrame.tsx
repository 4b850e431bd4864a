import type { FormEvent, ReactNode } from "react";
import { Alert, Button, Card, PageHeader, TextInput } from "../../ui/index.ts";

/** What the console's reports share: their frame (title, filters, body) and their period fields. */

export type Period = { from: string; to: string };

/**
 * A report page: its header, a filters form whose submit button applies them, and the body. With
 * `notAllowed` (the staff member's role cannot read reports), the header and that message instead.
 */
export const ReportFrame = ({
  title,
  lead,
  notAllowed,
  filtersTitle,
  filters,
  applyLabel,
  onApply,
  children,
}: {
  title: string;
  lead: string;
  notAllowed?: string | undefined;
  filtersTitle: string;
  filters: ReactNode;
  applyLabel: string;
  onApply: () => void;
  children: ReactNode;
}) => {
  if (notAllowed !== undefined)
    return (
      <div className="ui-stack">
        <PageHeader title={title} lead={lead} />
        <Alert tone="info">
          <p>{notAllowed}</p>
        </Alert>
      </div>
    );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply();
  };
  return (
    <div className="ui-stack">
      <PageHeader title={title} lead={lead} />
      <Card title={filtersTitle}>
        <form className="ui-filters" onSubmit={submit}>
          {filters}
          <div>
            <Button type="submit">{applyLabel}</Button>
          </div>
        </form>
      </Card>
      <Card>{children}</Card>
    </div>
  );
};

/** The from and to dates of a report's filters (each bounds the other). */
export const PeriodFields = <T extends Period>({
  draft,
  setDraft,
  labels,
}: {
  draft: T;
  setDraft: (next: T) => void;
  labels: { from: string; to: string };
}) => (
  <>
    <TextInput
      label={labels.from}
      type="date"
      value={draft.from}
      max={draft.to || undefined}
      onChange={(e) => setDraft({ ...draft, from: e.target.value })}
    />
    <TextInput
      label={labels.to}
      type="date"
      value={draft.to}
      min={draft.from || undefined}
      onChange={(e) => setDraft({ ...draft, to: e.target.value })}
    />
  </>
);
