import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { apiGet } from "../../api/client.ts";
import { useApi } from "../../api/use-api.ts";
import { Alert, Badge, type BadgeTone, Button, Checkbox, ErrorState, LoadingState } from "../../ui/index.ts";
import { announceSessionChange, apiSend, messageOf } from "../center/account/account-api.ts";
import type { PermissionResult } from "./PermissionFlow.tsx";
import {
  type Lang,
  type PermissionState,
  type PermissionsView,
  reportPermission,
  type SettingsView,
  setSetting,
} from "./sample-api.ts";
import type { Expectation } from "./use-sample-backend.ts";

const STATE_TONE: Record<PermissionState, BadgeTone> = {
  granted: "success",
  denied: "neutral",
  revoked: "warning",
  "not-asked": "info",
};

/** The permissions the sample app uses (the others belong to features it does not simulate). */
const APP_PERMISSIONS = ["phone", "location"];

/**
 * The "Me" tab: the app's own personalisation switches (the same switches as the privacy center),
 * its device permissions as the system settings would show them, and the way to the privacy center.
 */
export const MeTab = ({
  username,
  permissions,
  reloadPermissions,
  askPermission,
  refresh,
  version,
}: {
  username: string | null;
  permissions: PermissionsView | null;
  reloadPermissions: () => Promise<PermissionsView>;
  askPermission: (permission: PermissionsView["permissions"][number]) => Promise<PermissionResult>;
  refresh: (expect?: Expectation) => Promise<void>;
  /** Changes whenever the feed was refreshed: the switches may have changed elsewhere. */
  version: number;
}) => {
  const { t, i18n } = useTranslation();
  const lang: Lang = i18n.language === "zh-CN" ? "zh-CN" : "en";
  const settings = useApi<SettingsView>("/api/v1/me/settings");
  const [updated, setUpdated] = useState<SettingsView | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  // Switches may change elsewhere (the feed's switch, the privacy center): read them again, in
  // place, whenever the feed was refreshed or the language changed.
  useEffect(() => {
    if (version === 0) return;
    let live = true;
    apiGet<SettingsView>("/api/v1/me/settings", { lang })
      .then((next) => {
        if (live) setUpdated(next);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [version, lang]);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await work();
    } catch (err) {
      setError(messageOf(err, t("sampleApp.error")));
    } finally {
      setBusy(false);
    }
  };

  const flip = (id: string, name: string, on: boolean) =>
    run(async () => {
      setUpdated(await setSetting(id, on, lang));
      setDone(t(on ? "sampleApp.me.switchedOn" : "sampleApp.me.switchedOff", { name }));
      const offNow = (reason: string) => (on ? reason !== "setting-off" : reason === "setting-off");
      await refresh(
        id === "personalised-ads"
          ? { ad: (a) => offNow(a.decision.reason) }
          : { feed: (f) => offNow(f.decision.reason) },
      );
    });

  const changePermission = (permission: PermissionsView["permissions"][number]) =>
    run(async () => {
      if (permission.state === "granted") {
        await reportPermission(permission, "revoked", lang);
        setDone(t("sampleApp.me.revoked", { name: permission.name }));
      } else {
        const answer = await askPermission(permission);
        if (answer === "granted") setDone(t("sampleApp.me.granted", { name: permission.name }));
      }
      await reloadPermissions();
    });

  const signOut = () =>
    run(async () => {
      await apiSend("POST", "/api/v1/auth/logout");
      announceSessionChange();
    });

  const view = updated ?? (settings.status === "ok" ? settings.data : null);
  const shown = permissions?.permissions.filter((p) => APP_PERMISSIONS.includes(p.permissionId)) ?? [];

  return (
    <div className="ui-stack">
      <h3>{t("sampleApp.me.title")}</h3>
      {username ? <p>{t("sampleApp.me.signedInAs", { name: username })}</p> : null}
      <div role="status">{done ? <p>{done}</p> : null}</div>
      {error ? <Alert tone="error">{error}</Alert> : null}

      <section className="ui-stack" aria-labelledby="sample-me-personal">
        <h4 id="sample-me-personal">{t("sampleApp.me.personalTitle")}</h4>
        {settings.status === "loading" && !view ? <LoadingState /> : null}
        {settings.status === "error" ? <ErrorState error={settings.error} onRetry={settings.reload} /> : null}
        {view?.settings.map((s) => (
          <Checkbox
            key={s.id}
            role="switch"
            checked={s.on}
            disabled={busy}
            onChange={(e) => void flip(s.id, s.name, e.currentTarget.checked)}
            label={s.name}
          />
        ))}
        <p className="ui-muted">{t("sampleApp.me.sameSwitches")}</p>
      </section>

      <section className="ui-stack" aria-labelledby="sample-me-permissions">
        <h4 id="sample-me-permissions">{t("sampleApp.me.permissionsTitle")}</h4>
        <ul className="sample-players" data-testid="sample-permissions">
          {shown.map((p) => (
            <li key={p.permissionId} data-permission={p.permissionId} data-state={p.state}>
              <span>
                {p.name} <Badge tone={STATE_TONE[p.state]}>{t(`sampleApp.permissionState.${p.state}`)}</Badge>
              </span>
              <Button variant="ghost" size="sm" disabled={busy} onClick={() => void changePermission(p)}>
                {p.state === "granted" ? t("sampleApp.me.turnOff") : t("sampleApp.me.allow")}
                <span className="ui-visually-hidden"> · {p.name}</span>
              </Button>
            </li>
          ))}
        </ul>
      </section>

      <section className="ui-stack" aria-labelledby="sample-me-center">
        <h4 id="sample-me-center">{t("sampleApp.me.centerTitle")}</h4>
        <ul>
          <li>
            <Link to="/center/consents">{t("sampleApp.me.consents")}</Link>
          </li>
          <li>
            <Link to="/center/settings">{t("sampleApp.manageSettings")}</Link>
          </li>
          <li>
            <Link to="/center/permissions">{t("sampleApp.me.permissions")}</Link>
          </li>
        </ul>
      </section>
      <div>
        <Button variant="secondary" onClick={() => void signOut()} disabled={busy}>
          {t("sampleApp.me.signOut")}
        </Button>
      </div>
    </div>
  );
};
