import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { apiGet } from "../../../api/client.ts";
import {
  Alert,
  Badge,
  Button,
  ButtonLink,
  Card,
  Dialog,
  LoadingState,
  PageHeader,
} from "../../../ui/index.ts";
import { OidcMessage, oidcStartHref } from "../oidc.tsx";
import {
  announceSessionChange,
  apiSend,
  messageOf,
  type OidcProvider,
  providerName,
  type SessionItem,
  useMe,
} from "./account-api.ts";
import { ReauthDialog } from "./ReauthDialog.tsx";
import { SignedOutNotice } from "./SignedInOnly.tsx";

const formatTime = (iso: string, lang: string) =>
  new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));

export const AccountPage = () => {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const { state, reload } = useMe();
  const [sessions, setSessions] = useState<SessionItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [available, setAvailable] = useState<OidcProvider[]>([]);
  const [linking, setLinking] = useState<OidcProvider | null>(null);

  useEffect(() => {
    // Providers one may link (hidden when third-party sign-in is off).
    apiGet<{ providers: OidcProvider[] }>("/api/v1/auth/oidc/providers")
      .then((list) => setAvailable(list.providers))
      .catch(() => setAvailable([]));
  }, []);

  const linkHref = (p: OidcProvider) =>
    oidcStartHref(p.startUrl, { mode: "link", returnTo: "/center/account", lang: i18n.language });
  const nameOf = (p: OidcProvider) => providerName(p, i18n.language);

  const loadSessions = useCallback(() => {
    apiGet<{ sessions: SessionItem[] }>("/api/v1/me/sessions")
      .then((body) => setSessions(body.sessions))
      .catch(() => setSessions([]));
  }, []);

  useEffect(() => {
    if (state.status === "signed-in") loadSessions();
  }, [state.status, loadSessions]);

  const act = async (fn: () => Promise<unknown>, success?: string) => {
    setError(null);
    setNotice(null);
    try {
      await fn();
      if (success) setNotice(success);
      loadSessions();
      reload();
    } catch (err) {
      setError(messageOf(err, t("account.error")));
    }
  };

  const signedOutAfter = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      announceSessionChange();
      navigate("/center/account/sign-in");
    } catch (err) {
      setError(messageOf(err, t("account.error")));
    }
  };

  if (state.status === "loading") return <LoadingState />;
  if (state.status === "signed-out")
    return (
      <SignedOutNotice
        header={<PageHeader title={t("account.security.title")} />}
        title={t("account.security.signedOut")}
        signIn={t("account.signIn.title")}
        signUp={t("account.signUp.title")}
      />
    );

  const { me } = state;
  return (
    <div className="ui-stack ui-stack--lg">
      <PageHeader title={t("account.security.title")} lead={t("account.security.lead")} />
      {error ? <Alert tone="error">{error}</Alert> : null}
      {notice ? <Alert tone="success">{notice}</Alert> : null}
      <OidcMessage />

      <Card
        title={t("account.pi.title")}
        footer={
          <ButtonLink to="/center/account/personal-information" variant="primary">
            {t("account.pi.open")}
          </ButtonLink>
        }
      >
        <p className="ui-muted">{t("account.pi.cardLead")}</p>
      </Card>

      <Card title={t("account.security.profile")}>
        <dl className="ui-stack">
          <div>
            <dt className="ui-muted">{t("account.signUp.username")}</dt>
            <dd data-testid="account-username">{me.username ?? "—"}</dd>
          </div>
          {me.contacts.map((c) => (
            <div key={c.kind}>
              <dt className="ui-muted">{t(`account.security.contact.${c.kind}`)}</dt>
              <dd>
                {c.masked}{" "}
                {c.verified ? <Badge tone="success">{t("account.security.verified")}</Badge> : null}
              </dd>
            </div>
          ))}
        </dl>
      </Card>

      <section aria-labelledby="sessions-title" className="ui-stack">
        <h2 className="ui-section-title" id="sessions-title">
          {t("account.security.sessions")}
        </h2>
        {sessions === null ? <LoadingState /> : null}
        <ul className="ui-stack ui-list-reset" data-testid="sessions">
          {(sessions ?? []).map((s) => (
            <Card
              as="li"
              headingLevel={3}
              key={s.id}
              title={
                <>
                  {s.device}{" "}
                  {s.current ? <Badge tone="info">{t("account.security.thisSession")}</Badge> : null}
                </>
              }
              footer={
                <Button
                  variant="secondary"
                  size="sm"
                  onClick={() =>
                    s.current
                      ? signedOutAfter(() => apiSend("DELETE", `/api/v1/me/sessions/${s.id}`))
                      : act(
                          () => apiSend("DELETE", `/api/v1/me/sessions/${s.id}`),
                          t("account.security.revoked"),
                        )
                  }
                >
                  {t("account.security.revoke")}
                  <span className="ui-visually-hidden"> · {s.device}</span>
                </Button>
              }
            >
              <p className="ui-muted">
                {t("account.security.sessionMeta", {
                  method: t(`account.security.method.${s.method}`, { defaultValue: s.method }),
                  created: formatTime(s.createdAt, i18n.language),
                  seen: formatTime(s.lastSeenAt, i18n.language),
                })}
              </p>
            </Card>
          ))}
        </ul>
        <div className="ui-row">
          <Button
            variant="secondary"
            onClick={() =>
              act(
                () => apiSend("POST", "/api/v1/me/sessions/revoke-all", { keepCurrent: true }),
                t("account.security.revokedOthers"),
              )
            }
          >
            {t("account.security.revokeOthers")}
          </Button>
          <Button
            variant="secondary"
            onClick={() =>
              signedOutAfter(() => apiSend("POST", "/api/v1/me/sessions/revoke-all", { keepCurrent: false }))
            }
          >
            {t("account.security.revokeAll")}
          </Button>
        </div>
      </section>

      <section aria-labelledby="providers-title" className="ui-stack">
        <h2 className="ui-section-title" id="providers-title">
          {t("account.security.providers")}
        </h2>
        {me.providers.length === 0 ? (
          <p className="ui-muted">{t("account.security.noProviders")}</p>
        ) : (
          <ul className="ui-stack ui-list-reset" data-testid="providers">
            {me.providers.map((p) => (
              <Card
                as="li"
                headingLevel={3}
                key={p.id}
                title={p.provider}
                footer={
                  <Button
                    variant="secondary"
                    size="sm"
                    onClick={() =>
                      act(
                        () => apiSend("DELETE", `/api/v1/me/providers/${encodeURIComponent(p.id)}`),
                        t("account.security.unlinked"),
                      )
                    }
                  >
                    {t("account.security.unlink")}
                    <span className="ui-visually-hidden"> · {p.provider}</span>
                  </Button>
                }
              />
            ))}
          </ul>
        )}
        {available.filter((p) => !me.providers.some((m) => m.provider === p.id)).length > 0 ? (
          <div className="ui-stack">
            <p className="ui-muted">{t("account.link.lead")}</p>
            <div className="ui-row" data-testid="link-providers">
              {available
                .filter((p) => !me.providers.some((m) => m.provider === p.id))
                .map((p) => (
                  <Button
                    key={p.id}
                    variant="secondary"
                    onClick={() => {
                      // Linking needs a fresh "confirm it is you" (ACC-4); ask first when it is stale.
                      if (me.freshUntil && new Date(me.freshUntil).getTime() > Date.now())
                        window.location.assign(linkHref(p));
                      else setLinking(p);
                    }}
                  >
                    {t("account.link.button", { provider: nameOf(p) })}
                  </Button>
                ))}
            </div>
          </div>
        ) : null}
      </section>

      <ReauthDialog
        open={linking !== null}
        me={me}
        returnTo="/center/account"
        onClose={() => setLinking(null)}
        onVerified={() => {
          const p = linking;
          setLinking(null);
          if (p) window.location.assign(linkHref(p));
        }}
      />

      <section aria-labelledby="compromise-title" className="ui-stack">
        <h2 className="ui-section-title" id="compromise-title">
          {t("account.security.compromiseTitle")}
        </h2>
        <p className="ui-muted">{t("account.security.compromiseLead")}</p>
        <div>
          <Button variant="danger" onClick={() => setConfirming(true)}>
            {t("account.security.compromise")}
          </Button>
        </div>
      </section>

      <Dialog
        open={confirming}
        onClose={() => setConfirming(false)}
        title={t("account.security.compromiseConfirmTitle")}
        footer={
          <>
            <Button variant="secondary" onClick={() => setConfirming(false)}>
              {t("account.security.cancel")}
            </Button>
            <Button
              variant="danger"
              onClick={() => {
                setConfirming(false);
                void signedOutAfter(() => apiSend("POST", "/api/v1/me/report-compromise"));
              }}
            >
              {t("account.security.compromiseConfirm")}
            </Button>
          </>
        }
      >
        <p>{t("account.security.compromiseConfirmBody")}</p>
      </Dialog>
    </div>
  );
};
