import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { useApi } from "../../api/use-api.ts";
import { Alert, Badge, Card, Checkbox, ErrorState, LoadingState, PageHeader } from "../../ui/index.ts";
import { apiSend, messageOf } from "./account/account-api.ts";
import { SignedInOnly } from "./account/SignedInOnly.tsx";
import { HomeCard } from "./HomeCard.tsx";

/**
 * /center/subscriptions (CON-9): one switch per marketing channel of the manifest (SMS, email, push,
 * social accounts), each with how to unsubscribe there and when the choice last changed. A change
 * is recorded in the consent ledger and takes effect in decisions at once.
 */

export type SubscriptionsView = {
  marketingConsented: boolean;
  channels: {
    id: string;
    name: string;
    unsubscribe: string;
    subscribed: boolean;
    chosen: boolean;
    receives: boolean;
    changedAt: string | null;
  }[];
};

/** The privacy-center home's card for this page. */
export const SubscriptionsCard = () => {
  const { t } = useTranslation();
  return (
    <HomeCard
      title={t("subscriptions.cardTitle")}
      lead={t("subscriptions.cardLead")}
      to="/center/subscriptions"
      open={t("subscriptions.open")}
    />
  );
};

export const SubscriptionsPage = () => {
  const { t } = useTranslation();
  const header = <PageHeader title={t("subscriptions.title")} lead={t("subscriptions.lead")} />;
  return (
    <SignedInOnly
      header={header}
      signedOut={{
        title: t("subscriptions.signedOut"),
        body: t("subscriptions.signedOutBody"),
        signIn: t("subscriptions.signIn"),
      }}
    >
      {() => (
        <div className="ui-stack ui-stack--lg">
          {header}
          <Channels />
        </div>
      )}
    </SignedInOnly>
  );
};

const Channels = () => {
  const { t, i18n } = useTranslation();
  const loaded = useApi<SubscriptionsView>("/api/v1/me/subscriptions");
  // The view returned by the last change, shown until the next load.
  const [changed, setChanged] = useState<SubscriptionsView | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ tone: "success" | "error"; text: string } | null>(null);
  const lang = i18n.language === "zh-CN" ? "zh-CN" : "en";
  const view = changed ?? (loaded.status === "ok" ? loaded.data : null);

  const flip = async (channel: SubscriptionsView["channels"][number], subscribed: boolean) => {
    setBusy(channel.id);
    setNotice(null);
    try {
      const next = await apiSend<SubscriptionsView>(
        "PUT",
        `/api/v1/me/subscriptions/${encodeURIComponent(channel.id)}`,
        { subscribed, language: lang },
      );
      setChanged(next);
      setNotice({
        tone: "success",
        text: t(subscribed ? "subscriptions.savedOn" : "subscriptions.savedOff", { name: channel.name }),
      });
    } catch (error) {
      setNotice({ tone: "error", text: messageOf(error, t("subscriptions.error")) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <>
      <div aria-live="polite">
        {notice ? (
          <Alert tone={notice.tone}>
            <p>{notice.text}</p>
          </Alert>
        ) : null}
      </div>
      {loaded.status === "loading" && !view ? <LoadingState /> : null}
      {loaded.status === "error" && !view ? (
        <ErrorState error={loaded.error} onRetry={loaded.reload} />
      ) : null}
      {view ? (
        <>
          {view.marketingConsented ? null : (
            <Alert tone="info" title={t("subscriptions.notConsentedTitle")}>
              <p>{t("subscriptions.notConsentedBody")}</p>
            </Alert>
          )}
          <div className="ui-grid ui-grid--wide" data-testid="subscriptions">
            {view.channels.map((c) => (
              <ChannelCard key={c.id} channel={c} busy={busy === c.id} onChange={(on) => void flip(c, on)} />
            ))}
          </div>
        </>
      ) : null}
    </>
  );
};

const ChannelCard = ({
  channel,
  busy,
  onChange,
}: {
  channel: SubscriptionsView["channels"][number];
  busy: boolean;
  onChange: (subscribed: boolean) => void;
}) => {
  const { t, i18n } = useTranslation();
  const howId = useId();
  const titleId = useId();
  const when = (iso: string) =>
    new Intl.DateTimeFormat(i18n.language, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
  return (
    <Card
      as="section"
      labelledBy={titleId}
      title={channel.name}
      aside={
        <Badge tone={channel.subscribed ? "success" : "neutral"}>
          {channel.subscribed ? t("subscriptions.subscribed") : t("subscriptions.unsubscribed")}
        </Badge>
      }
    >
      <div className="ui-stack" data-channel={channel.id}>
        <Checkbox
          role="switch"
          checked={channel.subscribed}
          disabled={busy}
          aria-describedby={howId}
          onChange={(e) => onChange(e.currentTarget.checked)}
          label={t("subscriptions.switchLabel", { name: channel.name })}
        />
        <p id={howId}>{t("subscriptions.howTo", { text: channel.unsubscribe })}</p>
        <p className="ui-muted">
          {channel.changedAt
            ? t("subscriptions.changedAt", { when: when(channel.changedAt) })
            : t("subscriptions.neverChanged")}
        </p>
        {channel.subscribed && !channel.receives ? (
          <p className="ui-muted">{t("subscriptions.notReceiving")}</p>
        ) : null}
      </div>
    </Card>
  );
};
