import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, apiGet } from "../../../api/client.ts";
import { Alert, Button, Card, LoadingState, PageHeader } from "../../../ui/index.ts";
import { type Me, messageOf, useMe } from "./account-api.ts";
import { ReauthDialog } from "./ReauthDialog.tsx";
import { SignedOutNotice } from "./SignedInOnly.tsx";

type Information = {
  categories: {
    id: string;
    name: string;
    fields: { id: string; name: string; value: string }[];
    records?: {
      occurredAt: string;
      method: string;
      ip: string | null;
      userAgent: string;
      newDevice: boolean;
    }[];
  }[];
};

type Load =
  | { status: "loading" }
  | { status: "reauth" }
  | { status: "error"; message: string }
  | { status: "ok"; data: Information };

const RETURN_TO = "/center/account/personal-information";

/**
 * /center/account/personal-information (ACC-4): the person's own stored information by category,
 * in their language. The API asks for a fresh "confirm it is you" first; this page then offers
 * the ways the account has (password, a code to a given contact, a linked provider).
 */
export const MyInformationPage = () => {
  const { t } = useTranslation();
  const { state, reload } = useMe();
  if (state.status === "loading") return <LoadingState />;
  if (state.status === "signed-out")
    return (
      <SignedOutNotice
        header={<PageHeader title={t("account.pi.title")} />}
        title={t("account.security.signedOut")}
        signIn={t("account.signIn.title")}
      />
    );
  return <Information me={state.me} reloadMe={reload} />;
};

const Information = ({ me, reloadMe }: { me: Me; reloadMe: () => void }) => {
  const { t, i18n } = useTranslation();
  const [load, setLoad] = useState<Load>({ status: "loading" });
  const [asking, setAsking] = useState(false);

  const fetchInfo = useCallback(() => {
    setLoad({ status: "loading" });
    apiGet<Information>("/api/v1/me/personal-information", {
      lang: i18n.language === "zh-CN" ? "zh-CN" : "en",
    })
      .then((data) => setLoad({ status: "ok", data }))
      .catch((err: unknown) => {
        const reason =
          err instanceof ApiError ? (err.details as { reason?: string } | undefined)?.reason : undefined;
        if (err instanceof ApiError && err.status === 403 && reason === "reauth_required") {
          setLoad({ status: "reauth" });
          setAsking(true);
        } else setLoad({ status: "error", message: messageOf(err, t("account.error")) });
      });
  }, [i18n.language, t]);

  useEffect(() => {
    fetchInfo();
  }, [fetchInfo]);

  const when = (iso: string) =>
    new Intl.DateTimeFormat(i18n.language, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));

  return (
    <div className="ui-stack ui-stack--lg">
      <PageHeader title={t("account.pi.title")} lead={t("account.pi.lead")} />
      {load.status === "loading" ? <LoadingState /> : null}
      {load.status === "error" ? <Alert tone="error">{load.message}</Alert> : null}
      {load.status === "reauth" ? (
        <Alert tone="info" title={t("account.pi.reauthTitle")}>
          <p>{t("account.pi.reauthBody")}</p>
          <p>
            <Button onClick={() => setAsking(true)}>{t("account.pi.confirm")}</Button>
          </p>
        </Alert>
      ) : null}
      {load.status === "ok" ? (
        load.data.categories.length === 0 ? (
          <p className="ui-muted">{t("account.pi.none")}</p>
        ) : (
          <div className="ui-stack" data-testid="my-information">
            {load.data.categories.map((c) => (
              <Card key={c.id} title={c.name} headingLevel={2}>
                {c.fields.length > 0 ? (
                  <dl className="ui-stack">
                    {c.fields.map((f) => (
                      <div key={f.id}>
                        <dt className="ui-muted">{f.name}</dt>
                        <dd>{f.value}</dd>
                      </div>
                    ))}
                  </dl>
                ) : null}
                {c.records && c.records.length > 0 ? (
                  <ul className="ui-stack">
                    {c.records.map((r) => (
                      <li key={`${r.occurredAt}-${r.method}`}>
                        {t("account.pi.record", {
                          when: when(r.occurredAt),
                          method: t(`account.security.method.${r.method}`, { defaultValue: r.method }),
                          device: r.userAgent,
                          ip: r.ip ?? "—",
                        })}
                      </li>
                    ))}
                  </ul>
                ) : null}
              </Card>
            ))}
          </div>
        )
      ) : null}
      <ReauthDialog
        open={asking}
        me={me}
        returnTo={RETURN_TO}
        onClose={() => setAsking(false)}
        onVerified={() => {
          setAsking(false);
          reloadMe();
          fetchInfo();
        }}
      />
    </div>
  );
};
