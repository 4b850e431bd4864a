import { type ReactNode, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client.ts";
import {
  Alert,
  Badge,
  BarChart,
  Button,
  Card,
  Checkbox,
  type Column,
  Dialog,
  EmptyState,
  ErrorState,
  LineChart,
  PageHeader,
  Select,
  Spinner,
  Table,
  Tabs,
  TextInput,
} from "../../ui/index.ts";

const COLOURS = [
  "primary",
  "text",
  "muted",
  "header",
  "danger",
  "success",
  "warning",
  "sensitive",
  "bg",
  "surface-sunken",
] as const;
const SPACES = [1, 2, 3, 4, 5, 6, 7, 8] as const;
const TYPES = ["3xl", "2xl", "xl", "lg", "md", "sm", "xs"] as const;

const Section = ({ id, title, children }: { id: string; title: string; children: ReactNode }) => (
  <section aria-labelledby={`design-${id}`} className="ui-stack">
    <h2 className="ui-section-title" id={`design-${id}`}>
      {title}
    </h2>
    {children}
  </section>
);

type SampleRow = { id: string; request: string; state: string; due: string; done: boolean };

/** The living style guide: every design-system component, in the current language. */
export const DesignPage = () => {
  const { t } = useTranslation();
  const [dialogOpen, setDialogOpen] = useState(false);
  const [agreed, setAgreed] = useState(false);
  const [email, setEmail] = useState("not-an-email");

  const rows: SampleRow[] = [
    {
      id: "r1",
      request: t("design.sampleAccess"),
      state: t("design.sampleOpen"),
      due: "2025-07-08",
      done: false,
    },
    {
      id: "r2",
      request: t("design.sampleDelete"),
      state: t("design.sampleDone"),
      due: "2025-06-20",
      done: true,
    },
  ];
  const columns: Column<SampleRow>[] = [
    { id: "request", header: t("design.request"), rowHeader: true, cell: (r) => r.request },
    {
      id: "state",
      header: t("design.state"),
      cell: (r) => <Badge tone={r.done ? "success" : "info"}>{r.state}</Badge>,
    },
    { id: "due", header: t("design.due"), cell: (r) => r.due },
  ];
  const sampleError = new ApiError({
    status: 404,
    code: "not_found",
    message: t("design.alertError"),
    requestId: "req-3f9a2c",
    fromServer: true,
  });

  return (
    <div className="ui-stack ui-stack--lg">
      <PageHeader title={t("design.title")} lead={t("design.lead")} />

      <Section id="tokens" title={t("design.tokens")}>
        <div className="ui-grid">
          <Card title={t("design.colours")}>
            <ul className="ui-list-reset ui-stack">
              {COLOURS.map((c) => (
                <li key={c} className="ui-swatch">
                  <span className={`ui-swatch__chip ui-swatch__chip--${c}`} aria-hidden="true" />
                  <code>--c-{c}</code>
                </li>
              ))}
            </ul>
          </Card>
          <Card title={t("design.spacing")}>
            <ul className="ui-list-reset ui-stack">
              {SPACES.map((s) => (
                <li key={s} className="ui-space">
                  <code>--s-{s}</code>
                  <span className={`ui-space__bar ui-space__bar--${s}`} aria-hidden="true" />
                </li>
              ))}
            </ul>
          </Card>
          <Card title={t("design.type")}>
            <ul className="ui-list-reset ui-stack">
              {TYPES.map((s) => (
                <li key={s}>
                  <p className={`ui-type-sample ui-type--${s}`}>
                    <code className="ui-type--xs">--fs-{s}</code> {t("app.name")}
                  </p>
                </li>
              ))}
            </ul>
          </Card>
        </div>
      </Section>

      <Section id="buttons" title={t("design.buttons")}>
        <div className="ui-row">
          <Button>{t("design.primary")}</Button>
          <Button variant="secondary">{t("design.secondary")}</Button>
          <Button variant="ghost">{t("design.ghost")}</Button>
          <Button variant="danger">{t("design.danger")}</Button>
          <Button disabled>{t("design.disabled")}</Button>
          <Button size="sm">{t("design.primary")}</Button>
        </div>
      </Section>

      <Section id="forms" title={t("design.forms")}>
        <Card>
          <div className="ui-grid">
            <TextInput
              type="email"
              label={t("design.emailLabel")}
              hint={t("design.emailHint")}
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              error={/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) ? undefined : t("design.emailError")}
            />
            <Select
              label={t("design.channelLabel")}
              options={[
                { value: "email", label: t("outbox.channels.email") },
                { value: "sms", label: t("outbox.channels.sms") },
                { value: "push", label: t("outbox.channels.push") },
              ]}
            />
            <Checkbox
              label={t("design.agreeLabel")}
              checked={agreed}
              onChange={(e) => setAgreed(e.target.checked)}
            />
          </div>
        </Card>
      </Section>

      <Section id="badges" title={t("design.badges")}>
        <div className="ui-row">
          <Badge tone="sensitive">{t("pi.sensitive")}</Badge>
          <Badge tone="info">{t("pi.deviceOnly")}</Badge>
          <Badge tone="success">{t("tp.enabled")}</Badge>
          <Badge tone="warning">{t("tp.disabled")}</Badge>
          <Badge>{t("pi.general")}</Badge>
        </div>
      </Section>

      <Section id="alerts" title={t("design.alerts")}>
        <Alert tone="info">
          <p>{t("design.alertInfo")}</p>
        </Alert>
        <Alert tone="success">
          <p>{t("design.alertSuccess")}</p>
        </Alert>
        <Alert tone="warning">
          <p>{t("design.alertWarning")}</p>
        </Alert>
      </Section>

      <Section id="cards" title={t("design.cards")}>
        <div className="ui-grid">
          <Card title={t("design.cardTitle")}>
            <p>{t("design.cardBody")}</p>
          </Card>
          <Card
            title={t("design.cardTitle")}
            tone="highlight"
            aside={<Badge tone="sensitive">{t("pi.sensitive")}</Badge>}
          >
            <p>{t("design.cardBody")}</p>
          </Card>
          <Card title={t("design.cardTitle")} tone="muted">
            <p>{t("design.cardBody")}</p>
          </Card>
        </div>
      </Section>

      <Section id="table" title={t("design.table")}>
        <Table caption={t("design.tableCaption")} columns={columns} rows={rows} rowKey={(r) => r.id} />
      </Section>

      <Section id="dialog" title={t("design.dialog")}>
        <div>
          <Button variant="secondary" onClick={() => setDialogOpen(true)} data-testid="open-dialog">
            {t("design.openDialog")}
          </Button>
        </div>
        <Dialog
          open={dialogOpen}
          onClose={() => setDialogOpen(false)}
          title={t("design.dialogTitle")}
          footer={
            <>
              <Button variant="secondary" onClick={() => setDialogOpen(false)}>
                {t("common.cancel")}
              </Button>
              <Button variant="danger" onClick={() => setDialogOpen(false)}>
                {t("common.confirm")}
              </Button>
            </>
          }
        >
          <p>{t("design.dialogBody")}</p>
        </Dialog>
      </Section>

      <Section id="tabs" title={t("design.tabs")}>
        <Card>
          <Tabs
            label={t("design.tabs")}
            tabs={[
              { id: "one", label: t("design.tabOne"), content: <p>{t("design.tabOneBody")}</p> },
              { id: "two", label: t("design.tabTwo"), content: <p>{t("design.tabTwoBody")}</p> },
            ]}
          />
        </Card>
      </Section>

      <Section id="states" title={t("design.states")}>
        <Card>
          <Spinner />
        </Card>
        <EmptyState title={t("design.emptyTitle")}>{t("design.emptyBody")}</EmptyState>
        <ErrorState error={sampleError} onRetry={() => undefined} />
      </Section>

      <Section id="charts" title={t("design.chart")}>
        <div className="ui-grid ui-grid--wide">
          <Card>
            <BarChart
              title={t("design.barTitle")}
              desc={t("design.barDesc")}
              data={[
                { label: t("design.sampleAccess"), value: 42 },
                { label: t("design.sampleDelete"), value: 17 },
                { label: t("outbox.channels.email"), value: 9 },
                { label: t("outbox.channels.sms"), value: 25 },
              ]}
            />
          </Card>
          <Card>
            <LineChart
              title={t("design.lineTitle")}
              desc={t("design.lineDesc")}
              data={[
                { label: t("design.week", { n: 1 }), value: 12 },
                { label: t("design.week", { n: 2 }), value: 18 },
                { label: t("design.week", { n: 3 }), value: 9 },
                { label: t("design.week", { n: 4 }), value: 23 },
                { label: t("design.week", { n: 5 }), value: 20 },
                { label: t("design.week", { n: 6 }), value: 31 },
              ]}
            />
          </Card>
        </div>
      </Section>
    </div>
  );
};
