import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, apiGet, errorFromBody } from "../../api/client.ts";
import { useApi } from "../../api/use-api.ts";
import {
  Alert,
  Badge,
  ButtonLink,
  Card,
  Checkbox,
  ErrorState,
  LoadingState,
  PageHeader,
} from "../../ui/index.ts";
import { messageOf, useMe } from "./account/account-api.ts";

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

/** PUT JSON with the CSRF header (the shared account sender covers POST and DELETE only). */
const putJson = async <T,>(path: string, body: unknown): Promise<T> => {
  let response: Response;
  try {
    const { token } = await apiGet<{ token: string }>("/api/v1/session/csrf");
    response = await fetch(path, {
      method: "PUT",
      credentials: "same-origin",
      headers: { accept: "application/json", "content-type": "application/json", "x-csrf-token": token },
      body: JSON.stringify(body),
    });
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError({ status: 0, code: "network", message: "network", fromServer: false });
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) throw errorFromBody(response.status, parsed, response.headers.get("x-request-id"));
  return parsed as T;
};

/** The privacy-center home's card for this page. */
export const SubscriptionsCard = () => {
  const { t } = useTranslation();
  return (
    <Card
      title={t("subscriptions.cardTitle")}
      footer={<ButtonLink to="/center/subscriptions">{t("subscriptions.open")}</ButtonLink>}
    >
      <p className="ui-muted">{t("subscriptions.cardLead")}</p>
    </Card>
  );
};

export const SubscriptionsPage = () => {
  const { t } = useTranslation();
  const { state } = useMe();
  const header = <PageHeader title={t("subscriptions.title")} lead={t("subscriptions.lead")} />;
  if (state.status === "loading")
    return (
      <div className="ui-stack ui-stack--lg">
        {header}
        <LoadingState />
      </div>
    );
  if (state.status === "signed-out")
    return (
      <div className="ui-stack ui-stack--lg">
        {header}
        <Alert tone="info" title={t("subscriptions.signedOut")}>
          <p>{t("subscriptions.signedOutBody")}</p>
          <p className="ui-row">
            <ButtonLink to="/center/account/sign-in" variant="primary">
              {t("subscriptions.signIn")}
            </ButtonLink>
          </p>
        </Alert>
      </div>
    );
  return (
    <div className="ui-stack ui-stack--lg">
      {header}
      <Channels />
    </div>
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
      const next = await putJson<SubscriptionsView>(
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
