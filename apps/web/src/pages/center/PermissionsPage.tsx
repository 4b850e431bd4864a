import { useTranslation } from "react-i18next";
import { useApi } from "../../api/use-api.ts";
import {
  Badge,
  type BadgeTone,
  Card,
  type Column,
  EmptyState,
  ErrorState,
  LoadingState,
  PageHeader,
  Table,
  useDocumentTitle,
} from "../../ui/index.ts";
import { SignedInOnly } from "./account/SignedInOnly.tsx";
import { HomeCard } from "./HomeCard.tsx";

/**
 * /center/permissions (CON-10): each device permission with the purpose notice the app shows before
 * asking, its current state, and the history of grants, refusals and revocations with the notice
 * that was shown each time. Permissions are changed in the device settings; this page shows them.
 */

type CurrentState = "granted" | "denied" | "revoked" | "not-asked";

type HistoryEntry = {
  id: number;
  occurredAt: string;
  permissionId: string;
  state: "granted" | "denied" | "revoked";
  platformName: string | null;
  notice: { hash: string | null; language: string | null; version: string | null; current: boolean } | null;
};

type PermissionsView = {
  noticeVersion: string;
  permissions: {
    permissionId: string;
    name: string;
    notice: string;
    noticeHash: string;
    sensitive: boolean;
    refusalImpact: string;
    purposes: { purposeId: string; name: string }[];
    state: CurrentState;
  }[];
  history: HistoryEntry[];
};

const STATE_TONE: Record<CurrentState, BadgeTone> = {
  granted: "success",
  denied: "neutral",
  revoked: "warning",
  "not-asked": "info",
};

/** The privacy-center home's card for this page. */
export const PermissionsCard = () => {
  const { t } = useTranslation();
  return (
    <HomeCard
      title={t("permissions.cardTitle")}
      lead={t("permissions.cardLead")}
      to="/center/permissions"
      open={t("permissions.open")}
    />
  );
};

export const PermissionsPage = () => {
  const { t } = useTranslation();
  useDocumentTitle(t("permissions.title"));
  const header = <PageHeader title={t("permissions.title")} lead={t("permissions.lead")} />;
  return (
    <SignedInOnly
      header={header}
      signedOut={{ title: t("permissions.signedOut"), signIn: t("permissions.signIn") }}
    >
      {() => (
        <div className="ui-stack ui-stack--lg">
          {header}
          <Permissions />
        </div>
      )}
    </SignedInOnly>
  );
};

const Permissions = () => {
  const { t, i18n } = useTranslation();
  const view = useApi<PermissionsView>("/api/v1/me/permissions");
  if (view.status === "loading") return <LoadingState />;
  if (view.status === "error") return <ErrorState error={view.error} onRetry={view.reload} />;
  const { permissions, history } = view.data;
  const nameOf = (id: string) => permissions.find((p) => p.permissionId === id)?.name ?? id;
  const when = (iso: string) =>
    new Intl.DateTimeFormat(i18n.language, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
  const language = (lang: string | null) => (lang ? t(`permissions.languages.${lang}`) : "—");

  const noticeCell = (entry: HistoryEntry) => {
    if (!entry.notice) return <span className="ui-muted">{t("permissions.notice.none")}</span>;
    const { hash, version, current } = entry.notice;
    return (
      <span className="ui-stack">
        <span>
          {t(current ? "permissions.notice.current" : "permissions.notice.earlier", {
            language: language(entry.notice.language),
          })}
          {version ? ` · ${t("permissions.notice.version", { version })}` : null}
        </span>
        {hash ? (
          <span className="ui-muted">
            {t("permissions.notice.fingerprint")} <code title={hash}>{hash.slice(0, 12)}…</code>
          </span>
        ) : null}
      </span>
    );
  };

  const columns: Column<HistoryEntry>[] = [
    { id: "when", header: t("permissions.columns.when"), rowHeader: true, cell: (e) => when(e.occurredAt) },
    { id: "permission", header: t("permissions.columns.permission"), cell: (e) => nameOf(e.permissionId) },
    {
      id: "state",
      header: t("permissions.columns.state"),
      cell: (e) => <Badge tone={STATE_TONE[e.state]}>{t(`permissions.historyStates.${e.state}`)}</Badge>,
    },
    { id: "notice", header: t("permissions.columns.notice"), cell: noticeCell },
    {
      id: "platform",
      header: t("permissions.columns.platform"),
      cell: (e) => (e.platformName ? <code>{e.platformName}</code> : "—"),
    },
  ];

  return (
    <>
      <section aria-labelledby="permissions-list" className="ui-stack">
        <h2 className="ui-section-title" id="permissions-list">
          {t("permissions.listTitle")}
        </h2>
        <p className="ui-muted">{t("permissions.listLead")}</p>
        <ul className="ui-grid ui-grid--wide ui-list-reset" data-testid="permission-list">
          {permissions.map((p) => (
            <Card
              as="li"
              key={p.permissionId}
              title={p.name}
              aside={
                <span className="ui-row" data-testid={`permission-state-${p.permissionId}`}>
                  {p.sensitive ? <Badge tone="sensitive">{t("permissions.sensitive")}</Badge> : null}
                  <Badge tone={STATE_TONE[p.state]}>{t(`permissions.states.${p.state}`)}</Badge>
                </span>
              }
            >
              <div className="ui-stack">
                <p>
                  <strong>{t("permissions.noticeLabel")}</strong>
                </p>
                <p className="ui-muted">“{p.notice}”</p>
                <p>
                  <strong>{t("permissions.usedFor")}: </strong>
                  {p.purposes.length
                    ? p.purposes.map((x) => x.name).join(" · ")
                    : t("permissions.noPurposes")}
                </p>
                <p>
                  <strong>{t("permissions.ifRefused")}: </strong>
                  {p.refusalImpact}
                </p>
              </div>
            </Card>
          ))}
        </ul>
      </section>

      <section aria-labelledby="permissions-history" className="ui-stack">
        <h2 className="ui-section-title" id="permissions-history">
          {t("permissions.historyTitle")}
        </h2>
        <p className="ui-muted">{t("permissions.historyLead")}</p>
        <div data-testid="permission-history">
          {history.length ? (
            <Table
              caption={t("permissions.historyCaption")}
              captionHidden
              columns={columns}
              rows={history}
              rowKey={(e) => String(e.id)}
            />
          ) : (
            <EmptyState title={t("permissions.historyEmpty")} />
          )}
        </div>
      </section>
    </>
  );
};
