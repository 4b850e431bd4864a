import { useCallback, useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { useApi } from "../../api/use-api.ts";
import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  EmptyState,
  ErrorState,
  LoadingState,
  PageHeader,
} from "../../ui/index.ts";
import { apiSend, messageOf } from "./account/account-api.ts";
import { SignedInOnly } from "./account/SignedInOnly.tsx";
import { HomeCard } from "./HomeCard.tsx";

/**
 * /center/settings (CON-8, CON-15): the two personalisation switches with what turning them off
 * means, the interest tags inferred about the person (delete one or all), and "why am I seeing
 * this" for each kind of personalisation.
 */

type SettingsView = {
  noticeVersion: string;
  manageUrl: string;
  settings: {
    id: string;
    name: string;
    on: boolean;
    offMeans: string;
    purposes: { id: string; name: string; consent: string; personalised: boolean }[];
  }[];
};

type TagsView = {
  tags: { id: string; tagId: string; label: string; purposeName: string; inferredAt: string }[];
};

type Why = {
  purposeId: string;
  name: string;
  personalised: boolean;
  reason: string;
  setting: { id: string; name: string; on: boolean; offMeans: string };
  categories: { id: string; name: string }[];
  tags: { id: string; tagId: string; label: string }[];
  label: string;
};

const WHY_REASONS = [
  "setting-off",
  "consent-missing",
  "consent-withdrawn",
  "consent-invalidated",
  "restricted",
];

/** The privacy-center home's card for this page. */
export const SettingsCard = () => {
  const { t } = useTranslation();
  return (
    <HomeCard
      title={t("settings.cardTitle")}
      lead={t("settings.cardLead")}
      to="/center/settings"
      open={t("settings.open")}
    />
  );
};

export const SettingsPage = () => {
  const { t } = useTranslation();
  return (
    <SignedInOnly
      header={<PageHeader title={t("settings.title")} lead={t("settings.lead")} />}
      signedOut={{ title: t("settings.signedOut"), signIn: t("settings.signIn") }}
    >
      {() => <Personalisation />}
    </SignedInOnly>
  );
};

const Personalisation = () => {
  const { t, i18n } = useTranslation();
  const settings = useApi<SettingsView>("/api/v1/me/settings");
  const tags = useApi<TagsView>("/api/v1/me/interest-tags");
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ tone: "success" | "error"; text: string } | null>(null);
  // Remounts the "why" cards after a change, so they fetch again.
  const [round, setRound] = useState(0);
  const lang = i18n.language === "zh-CN" ? "zh-CN" : "en";

  const refresh = useCallback(() => {
    settings.reload();
    tags.reload();
    setRound((n) => n + 1);
  }, [settings.reload, tags.reload]);

  const act = async (key: string, work: () => Promise<string>) => {
    setBusy(key);
    setNotice(null);
    try {
      setNotice({ tone: "success", text: await work() });
      refresh();
    } catch (error) {
      setNotice({ tone: "error", text: messageOf(error, t("settings.error")) });
    } finally {
      setBusy(null);
    }
  };

  const flip = (id: string, name: string, on: boolean) =>
    act(`setting:${id}`, async () => {
      await apiSend("PUT", `/api/v1/me/settings/${encodeURIComponent(id)}`, { on, language: lang });
      return on ? t("settings.savedOn", { name }) : t("settings.savedOff", { name });
    });

  const removeTag = (id: string, label: string) =>
    act(`tag:${id}`, async () => {
      await apiSend<{ deleted: number }>("DELETE", `/api/v1/me/interest-tags/${encodeURIComponent(id)}`);
      return t("settings.deleted", { label });
    });

  const removeAll = () =>
    act("tags:all", async () => {
      const { deleted } = await apiSend<{ deleted: number }>("DELETE", "/api/v1/me/interest-tags");
      return t("settings.deletedAll", { count: deleted });
    });

  const when = (iso: string) =>
    new Intl.DateTimeFormat(i18n.language, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));

  return (
    <div className="ui-stack ui-stack--lg">
      <PageHeader title={t("settings.title")} lead={t("settings.lead")} />
      <div aria-live="polite">
        {notice ? (
          <Alert tone={notice.tone}>
            <p>{notice.text}</p>
          </Alert>
        ) : null}
      </div>

      <section aria-labelledby="settings-switches" className="ui-stack">
        <h2 className="ui-section-title" id="settings-switches">
          {t("settings.switchesTitle")}
        </h2>
        <p className="ui-muted">{t("settings.switchesLead")}</p>
        {settings.status === "loading" ? <LoadingState /> : null}
        {settings.status === "error" ? <ErrorState error={settings.error} onRetry={settings.reload} /> : null}
        {settings.status === "ok" ? (
          <div className="ui-grid ui-grid--wide" data-testid="settings-switches">
            {settings.data.settings.map((s) => (
              <SwitchCard
                key={s.id}
                setting={s}
                busy={busy === `setting:${s.id}`}
                onChange={(on) => void flip(s.id, s.name, on)}
              />
            ))}
          </div>
        ) : null}
      </section>

      <section aria-labelledby="settings-tags" className="ui-stack">
        <h2 className="ui-section-title" id="settings-tags">
          {t("settings.tagsTitle")}
        </h2>
        <p className="ui-muted">{t("settings.tagsLead")}</p>
        {tags.status === "loading" ? <LoadingState /> : null}
        {tags.status === "error" ? <ErrorState error={tags.error} onRetry={tags.reload} /> : null}
        {tags.status === "ok" && tags.data.tags.length === 0 ? (
          <EmptyState title={t("settings.tagsEmpty")} />
        ) : null}
        {tags.status === "ok" && tags.data.tags.length > 0 ? (
          <>
            <ul className="ui-stack ui-list-reset" data-testid="interest-tags">
              {tags.data.tags.map((tag) => (
                <li key={tag.id} className="ui-row">
                  <Badge tone="info">{tag.label}</Badge>
                  <span className="ui-muted">
                    {t("settings.tagMeta", { purpose: tag.purposeName, when: when(tag.inferredAt) })}
                  </span>
                  <Button
                    variant="ghost"
                    size="sm"
                    aria-label={t("settings.deleteTagLabel", { label: tag.label })}
                    disabled={busy !== null}
                    onClick={() => void removeTag(tag.id, tag.label)}
                  >
                    {t("settings.deleteTag")}
                  </Button>
                </li>
              ))}
            </ul>
            <p>
              <Button variant="danger" disabled={busy !== null} onClick={() => void removeAll()}>
                {t("settings.deleteAll")}
              </Button>
            </p>
          </>
        ) : null}
      </section>

      <section aria-labelledby="settings-why" className="ui-stack">
        <h2 className="ui-section-title" id="settings-why">
          {t("settings.whyTitle")}
        </h2>
        <p className="ui-muted">{t("settings.whyLead")}</p>
        {settings.status === "ok" ? (
          <div className="ui-grid ui-grid--wide" data-testid="settings-why">
            {settings.data.settings
              .flatMap((s) => s.purposes)
              .map((p) => (
                <WhyCard key={`${p.id}:${round}`} purposeId={p.id} />
              ))}
          </div>
        ) : null}
      </section>
    </div>
  );
};

const SwitchCard = ({
  setting,
  busy,
  onChange,
}: {
  setting: SettingsView["settings"][number];
  busy: boolean;
  onChange: (on: boolean) => void;
}) => {
  const { t } = useTranslation();
  const offId = useId();
  return (
    <Card
      as="section"
      labelledBy={`setting-${setting.id}`}
      title={setting.name}
      aside={
        <Badge tone={setting.on ? "success" : "neutral"}>
          {setting.on ? t("settings.on") : t("settings.off")}
        </Badge>
      }
    >
      <div className="ui-stack">
        <Checkbox
          role="switch"
          checked={setting.on}
          disabled={busy}
          aria-describedby={offId}
          onChange={(e) => onChange(e.currentTarget.checked)}
          label={setting.name}
        />
        <p id={offId}>{t("settings.offMeans", { text: setting.offMeans })}</p>
        <div>
          <p className="ui-muted">{t("settings.governs")}</p>
          <ul>
            {setting.purposes.map((p) => (
              <li key={p.id}>
                {p.name} ·{" "}
                {p.personalised
                  ? t("settings.personalising")
                  : p.consent === "given"
                    ? t("settings.notPersonalising")
                    : t("settings.noConsent")}
              </li>
            ))}
          </ul>
        </div>
      </div>
    </Card>
  );
};

const WhyCard = ({ purposeId }: { purposeId: string }) => {
  const { t } = useTranslation();
  const why = useApi<Why>("/api/v1/me/personalisation/why", { purpose: purposeId });
  if (why.status === "loading") return <LoadingState />;
  if (why.status === "error") return <ErrorState error={why.error} onRetry={why.reload} />;
  const w = why.data;
  const vars = { setting: w.setting.name, purpose: w.name };
  const reasonKey = WHY_REASONS.includes(w.reason) ? w.reason : "other";
  return (
    <Card title={w.name} aside={<Badge tone={w.personalised ? "info" : "neutral"}>{w.label}</Badge>}>
      <div className="ui-stack">
        <p>{t("settings.whyLabel", { label: w.label })}</p>
        <p>
          {w.personalised ? t("settings.whyPersonalised", vars) : t(`settings.whyReason.${reasonKey}`, vars)}
        </p>
        {w.personalised ? (
          <>
            <p className="ui-muted">
              {t("settings.whyCategories", { list: w.categories.map((c) => c.name).join(" · ") })}
            </p>
            <p className="ui-muted">
              {w.tags.length > 0
                ? t("settings.whyTags", { list: w.tags.map((x) => x.label).join(" · ") })
                : t("settings.whyNoTags")}
            </p>
          </>
        ) : w.reason === "setting-off" ? (
          <p className="ui-muted">{t("settings.offMeans", { text: w.setting.offMeans })}</p>
        ) : null}
        <p className="ui-muted">{t("settings.pseudonymous")}</p>
      </div>
    </Card>
  );
};
