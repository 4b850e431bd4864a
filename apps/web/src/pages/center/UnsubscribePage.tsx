import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router-dom";
import { ApiError, errorFromBody } from "../../api/client.ts";
import { useApi } from "../../api/use-api.ts";
import { Alert, Button, ButtonLink, Card, ErrorState, LoadingState, PageHeader } from "../../ui/index.ts";
import { messageOf } from "./account/account-api.ts";

/**
 * /center/unsubscribe/:token (CON-9): where the one-click link of a marketing email leads in a
 * browser (GET /u/:token redirects here). Opening it changes nothing, since mail scanners follow
 * links; the button sends the same RFC 8058 one-click POST a mail provider would, authenticated by
 * the signed token alone (no session, so no cookie is sent).
 */

type LinkInfo = { channel: string; name: string };

const oneClick = async (token: string): Promise<void> => {
  let response: Response;
  try {
    response = await fetch(`/u/${encodeURIComponent(token)}`, {
      method: "POST",
      credentials: "omit",
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
  } catch {
    throw new ApiError({ status: 0, code: "network", message: "network", fromServer: false });
  }
  if (response.ok) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await response.text());
  } catch {
    parsed = undefined;
  }
  throw errorFromBody(response.status, parsed, response.headers.get("x-request-id"));
};

/** "expired" or "invalid" when the server refused the link itself (details.reason token_*). */
const tokenProblem = (error: ApiError): "expired" | "invalid" | undefined => {
  const reason = (error.details as { reason?: string } | undefined)?.reason;
  if (reason === "token_expired") return "expired";
  return reason?.startsWith("token_") ? "invalid" : undefined;
};

export const UnsubscribePage = () => {
  const { t } = useTranslation();
  const { token = "" } = useParams();
  const info = useApi<LinkInfo>(`/api/v1/unsubscribe/${encodeURIComponent(token)}`);
  const [state, setState] = useState<
    { status: "idle" | "busy" | "done" } | { status: "error"; message: string }
  >({ status: "idle" });

  const confirm = async () => {
    setState({ status: "busy" });
    try {
      await oneClick(token);
      setState({ status: "done" });
    } catch (error) {
      setState({ status: "error", message: messageOf(error, t("subscriptions.error")) });
    }
  };

  return (
    <div className="ui-stack ui-stack--lg">
      <PageHeader title={t("subscriptions.unsubscribeTitle")} lead={t("subscriptions.unsubscribeLead")} />
      {info.status === "loading" ? <LoadingState /> : null}
      {info.status === "error" ? (
        tokenProblem(info.error) ? (
          <Alert tone="error" title={t("subscriptions.linkInvalidTitle")}>
            <p>{t(`subscriptions.linkInvalid.${tokenProblem(info.error)}`)}</p>
          </Alert>
        ) : (
          <ErrorState error={info.error} onRetry={info.reload} />
        )
      ) : null}
      {info.status === "ok" ? (
        <Card title={info.data.name} headingLevel={2}>
          <div className="ui-stack" aria-live="polite">
            {state.status === "done" ? (
              <Alert tone="success" title={t("subscriptions.doneTitle", { name: info.data.name })}>
                <p>{t("subscriptions.doneBody")}</p>
              </Alert>
            ) : (
              <>
                <p>{t("subscriptions.confirmLead", { name: info.data.name })}</p>
                <p>
                  <Button variant="primary" disabled={state.status === "busy"} onClick={() => void confirm()}>
                    {t("subscriptions.confirm", { name: info.data.name })}
                  </Button>
                </p>
              </>
            )}
            {state.status === "error" ? <Alert tone="error">{state.message}</Alert> : null}
          </div>
        </Card>
      ) : null}
      <p>
        <ButtonLink to="/center/subscriptions">{t("subscriptions.manage")}</ButtonLink>
      </p>
    </div>
  );
};
