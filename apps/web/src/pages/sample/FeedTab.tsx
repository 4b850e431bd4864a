import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { Alert, Badge, Button, Checkbox, ErrorState, LoadingState } from "../../ui/index.ts";
import { messageOf } from "../center/account/account-api.ts";
import { SeparateConsentPrompt } from "./SeparateConsentPrompt.tsx";
import { type Ad, type Feed, type Lang, type SampleDecision, setSetting, type Why } from "./sample-api.ts";
import type { Expectation, Loaded } from "./use-sample-backend.ts";

export const CONTENT_PURPOSE = "personalised-content";

/** "Decided in-process by the Custos SDK (data 12 ms old)" or "asked the Custos server". */
export const DecidedBy = ({ decision }: { decision: SampleDecision }) => {
  const { t } = useTranslation();
  return (
    <p className="sample-meta" data-testid="decided-by" data-source={decision.source}>
      {decision.source === "snapshot"
        ? t("sampleApp.decidedBySdk", { age: decision.ageMs ?? 0 })
        : t("sampleApp.decidedByServer")}
    </p>
  );
};

/** The "why am I seeing this" of an item or an advert. */
const WhyDetails = ({
  why,
  decision,
  kind,
}: {
  why: Why | null;
  decision: SampleDecision;
  kind: "content" | "ads";
}) => {
  const { t } = useTranslation();
  return (
    <details className="sample-why">
      <summary>{t(kind === "ads" ? "sampleApp.whyAd" : "sampleApp.why")}</summary>
      <div className="sample-why__body" data-testid="why">
        {why ? (
          <>
            <p>{t(`sampleApp.whyPersonalised.${kind}`)}</p>
            <p>
              {t("sampleApp.whyTags", {
                tags: why.tags.map((tag) => tag.label).join(t("sampleApp.listSeparator")),
              })}
            </p>
            <p>{t(`sampleApp.whySwitch.${kind}`)}</p>
          </>
        ) : (
          <>
            <p>{t(`sampleApp.whyGeneric.${kind}`)}</p>
            <p>{t("sampleApp.becauseReason", { reason: t(`sampleApp.reason.${decision.reason}`) })}</p>
          </>
        )}
        <p>
          <Link to="/center/settings">{t("sampleApp.manageSettings")}</Link>
        </p>
      </div>
    </details>
  );
};

const AdSlot = ({ ad }: { ad: Loaded<Ad> }) => {
  const { t } = useTranslation();
  if (ad.status === "loading")
    return (
      <li>
        <LoadingState />
      </li>
    );
  if (ad.status === "error")
    return (
      <li>
        <ErrorState error={ad.error} />
      </li>
    );
  const a = ad.data;
  return (
    <li>
      <aside
        className="sample-ad"
        aria-label={t("sampleApp.adSlot")}
        data-testid="ad-slot"
        data-personalised={String(a.personalised)}
      >
        <div className="sample-meta">
          <Badge tone={a.personalised ? "info" : "neutral"}>
            <span data-testid="ad-label">{a.label}</span>
          </Badge>
          <span>{a.ad.advertiser}</span>
        </div>
        <p className="sample-ad__title">{a.ad.title}</p>
        <p>{a.ad.body}</p>
        <WhyDetails why={a.why} decision={a.decision} kind="ads" />
      </aside>
    </li>
  );
};

/**
 * The "For you" tab: the feed the backend chose (personalised and labelled, or the editors' picks for
 * everyone), an ad slot that always has an advert, and the way to personalisation: the separate
 * consent when it is missing, the switch when it is off.
 */
export const FeedTab = ({
  feed,
  ad,
  updating,
  refresh,
}: {
  feed: Loaded<Feed>;
  ad: Loaded<Ad>;
  updating: boolean;
  refresh: (expect?: Expectation) => Promise<void>;
}) => {
  const { t, i18n } = useTranslation();
  const lang: Lang = i18n.language === "zh-CN" ? "zh-CN" : "en";
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  if (feed.status === "loading") return <LoadingState />;
  if (feed.status === "error")
    return feed.error.status === 404 ? (
      <Alert tone="info" title={t("sampleApp.offTitle")}>
        <p>{t("sampleApp.off")}</p>
      </Alert>
    ) : (
      <ErrorState error={feed.error} onRetry={() => void refresh()} />
    );
  const f = feed.data;
  const reason = f.decision.reason;

  const switchOn = async () => {
    setBusy(true);
    setError(null);
    try {
      await setSetting(CONTENT_PURPOSE, true, lang);
      setNote(t("sampleApp.feed.switchedOn"));
      await refresh({ feed: (next) => next.decision.reason !== "setting-off" });
    } catch (err) {
      setError(messageOf(err, t("sampleApp.error")));
    } finally {
      setBusy(false);
    }
  };

  const consentDone = async (result: "given" | "refused" | "dismissed") => {
    setAsking(false);
    if (result === "given") {
      setNote(t("sampleApp.feed.consentGiven"));
      await refresh({ feed: (next) => next.decision.allow });
    } else setNote(t("sampleApp.feed.consentRefused"));
  };

  const items = f.items.map((item) => (
    <li
      key={item.id}
      className="sample-item"
      data-testid="feed-item"
      data-personalised={String(item.personalised)}
    >
      <div className="sample-meta">
        <Badge tone="neutral">{t(`sampleApp.kind.${item.kind}`)}</Badge>
        <Badge tone={item.personalised ? "info" : "neutral"}>{item.label}</Badge>
      </div>
      <p className="sample-item__title">{item.title}</p>
      {item.because ? (
        <p className="sample-meta">{t("sampleApp.feed.because", { tag: item.because })}</p>
      ) : null}
      <WhyDetails why={f.why} decision={f.decision} kind="content" />
    </li>
  ));
  // The ad slot goes after the second item, as a feed would place it.
  items.splice(Math.min(2, items.length), 0, <AdSlot key="ad-slot" ad={ad} />);

  return (
    <div className="ui-stack">
      <h3>{t("sampleApp.feed.title")}</h3>
      <div className="sample-meta" data-testid="feed-state" data-personalised={String(f.personalised)}>
        <Badge tone={f.personalised ? "info" : "neutral"}>
          <span data-testid="feed-label">{f.label}</span>
        </Badge>
        <Button variant="ghost" size="sm" onClick={() => void refresh()} disabled={updating}>
          {t("sampleApp.refresh")}
        </Button>
      </div>
      <DecidedBy decision={f.decision} />
      <div role="status" data-testid="feed-note">
        {updating ? (
          <p className="sample-meta">{t("sampleApp.updating")}</p>
        ) : note ? (
          <p className="sample-meta">{note}</p>
        ) : null}
      </div>
      {error ? <Alert tone="error">{error}</Alert> : null}
      {!f.personalised && reason === "setting-off" ? (
        <Alert tone="info" title={t("sampleApp.feed.offTitle")}>
          <p>{t("sampleApp.feed.offLead")}</p>
          <Checkbox
            role="switch"
            checked={false}
            disabled={busy}
            onChange={() => void switchOn()}
            label={t("sampleApp.feed.switchLabel")}
          />
          <p>
            <Link to="/center/settings">{t("sampleApp.manageSettings")}</Link>
          </p>
        </Alert>
      ) : null}
      {!f.personalised && reason.startsWith("consent-") ? (
        <Alert tone="info" title={t("sampleApp.feed.askTitle")}>
          <p>{t("sampleApp.feed.askLead")}</p>
          <Button onClick={() => setAsking(true)} aria-haspopup="dialog" disabled={asking}>
            {t("sampleApp.feed.ask")}
          </Button>
        </Alert>
      ) : null}
      <ul className="sample-feed" aria-label={t("sampleApp.feed.listLabel")} data-testid="feed">
        {items}
      </ul>
      <SeparateConsentPrompt purposeId={CONTENT_PURPOSE} open={asking} onDone={(r) => void consentDone(r)} />
    </div>
  );
};
