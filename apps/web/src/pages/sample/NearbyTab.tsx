import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { Alert, Button, Spinner } from "../../ui/index.ts";
import { messageOf } from "../center/account/account-api.ts";
import { DecidedBy } from "./FeedTab.tsx";
import type { PermissionResult } from "./PermissionFlow.tsx";
import { SeparateConsentPrompt } from "./SeparateConsentPrompt.tsx";
import {
  fetchNearby,
  type Lang,
  type Nearby,
  type PermissionsView,
  refetchUntil,
  type SampleDecision,
  shouldShow,
} from "./sample-api.ts";

export const LOCATION_PURPOSE = "location-services";
export const LOCATION_PERMISSION = "location";

type State =
  | { kind: "idle" }
  | { kind: "working" }
  | { kind: "declined" }
  | { kind: "permission-off" }
  | { kind: "ok"; nearby: Nearby }
  | { kind: "error"; message: string };

/**
 * "Players nearby", the location feature. On first use it asks the separate consent to location-based
 * services (its own dialog; refusing changes nothing else, CON-6), then the location permission (the
 * purpose notice first, then the system prompt, CON-10). A refused prompt is not shown again by
 * itself during the cool-down (CON-7); the player can still open it.
 */
export const NearbyTab = ({
  loadPermissions,
  askPermission,
  onDecision,
}: {
  loadPermissions: () => Promise<PermissionsView>;
  askPermission: (permission: PermissionsView["permissions"][number]) => Promise<PermissionResult>;
  onDecision: (decision: SampleDecision) => void;
}) => {
  const { t, i18n } = useTranslation();
  const lang: Lang = i18n.language === "zh-CN" ? "zh-CN" : "en";
  const [state, setState] = useState<State>({ kind: "idle" });
  const [asking, setAsking] = useState(false);

  const guard = async (work: () => Promise<void>) => {
    setState({ kind: "working" });
    try {
      await work();
    } catch (err) {
      setState({ kind: "error", message: messageOf(err, t("sampleApp.error")) });
    }
  };

  /** The players, once the backend allows it (a change just recorded may take a moment to arrive). */
  const show = async (wait: boolean) => {
    const result = wait
      ? await refetchUntil(
          () => fetchNearby(lang),
          (r) => r.ok,
        )
      : await fetchNearby(lang);
    onDecision(result.ok ? result.nearby.decision : result.refusal.decision);
    if (result.ok) setState({ kind: "ok", nearby: result.nearby });
    return result;
  };

  /** Makes sure the location permission is granted, asking for it when allowed to. */
  const withPermission = async (userAsked: boolean) => {
    const view = await loadPermissions();
    const permission = view.permissions.find((p) => p.permissionId === LOCATION_PERMISSION);
    if (!permission) throw new Error("the manifest declares no location permission");
    if (permission.state !== "granted") {
      const may = userAsked || (await shouldShow("permission", LOCATION_PERMISSION)).show;
      if (!may) {
        setState({ kind: "permission-off" });
        return;
      }
      const answer = await askPermission(permission);
      if (answer !== "granted") {
        setState({ kind: "permission-off" });
        return;
      }
    }
    const result = await show(true);
    if (!result.ok) setState({ kind: result.refusal.needs === "consent" ? "declined" : "permission-off" });
  };

  const find = (userAsked: boolean) =>
    guard(async () => {
      const result = await show(false);
      if (result.ok) return;
      if (result.refusal.needs === "permission") return withPermission(userAsked);
      const may = userAsked || (await shouldShow("purpose", LOCATION_PURPOSE)).show;
      if (may) setAsking(true);
      else setState({ kind: "declined" });
    });

  const consentDone = (result: "given" | "refused" | "dismissed") => {
    setAsking(false);
    if (result === "given") void guard(() => withPermission(false));
    else setState({ kind: "declined" });
  };

  return (
    <div className="ui-stack">
      <h3>{t("sampleApp.nearby.title")}</h3>
      <p>{t("sampleApp.nearby.lead")}</p>
      <div>
        <Button onClick={() => void find(false)} disabled={state.kind === "working" || asking}>
          {t("sampleApp.nearby.find")}
        </Button>
      </div>
      <div role="status" data-testid="nearby-status" data-state={state.kind}>
        {state.kind === "working" ? <Spinner /> : null}
        {state.kind === "declined" ? (
          <Alert tone="info" title={t("sampleApp.nearby.declinedTitle")}>
            <p>{t("sampleApp.nearby.declined")}</p>
          </Alert>
        ) : null}
        {state.kind === "permission-off" ? (
          <Alert tone="info" title={t("sampleApp.nearby.permissionOffTitle")}>
            <p>{t("sampleApp.nearby.permissionOff")}</p>
          </Alert>
        ) : null}
        {state.kind === "error" ? <Alert tone="error">{state.message}</Alert> : null}
        {state.kind === "ok" ? (
          <p>{t("sampleApp.nearby.found", { count: state.nearby.players.length })}</p>
        ) : null}
      </div>
      {state.kind === "declined" ? (
        <div className="ui-row">
          <Button variant="secondary" onClick={() => void find(true)} aria-haspopup="dialog">
            {t("sampleApp.nearby.review")}
          </Button>
          <Link to="/center/consents">{t("sampleApp.nearby.manageConsents")}</Link>
        </div>
      ) : null}
      {state.kind === "permission-off" ? (
        <div>
          <Button
            variant="secondary"
            onClick={() => void guard(() => withPermission(true))}
            aria-haspopup="dialog"
          >
            {t("sampleApp.nearby.allowLocation")}
          </Button>
        </div>
      ) : null}
      {state.kind === "ok" ? (
        <>
          <ul className="sample-players" data-testid="nearby-players">
            {state.nearby.players.map((p) => (
              <li key={p.handle}>
                <span>
                  <strong>{p.handle}</strong> · {p.game}
                </span>
                <span>{t("sampleApp.nearby.distance", { km: p.distanceKm })}</span>
              </li>
            ))}
          </ul>
          <DecidedBy decision={state.nearby.decision} />
        </>
      ) : null}
      <SeparateConsentPrompt purposeId={LOCATION_PURPOSE} open={asking} onDone={consentDone} />
    </div>
  );
};
