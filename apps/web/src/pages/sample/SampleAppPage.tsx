import { useCallback, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { apiGet } from "../../api/client.ts";
import { Card, LoadingState, PageHeader, Tabs } from "../../ui/index.ts";
import { useMe } from "../center/account/account-api.ts";
import { AuthScreen } from "./AuthScreen.tsx";
import { BannerEmbed } from "./BannerEmbed.tsx";
import { FeedTab } from "./FeedTab.tsx";
import { MeTab } from "./MeTab.tsx";
import { NearbyTab } from "./NearbyTab.tsx";
import { usePermissionPrompt } from "./PermissionFlow.tsx";
import { PhoneFrame } from "./PhoneFrame.tsx";
import { type Lang, type PermissionsView, type SampleDecision, shouldShow } from "./sample-api.ts";
import { useSampleBackend } from "./use-sample-backend.ts";
import "./sample-app.css";

/** Asked when the app starts for the first time: device information (purpose notice first). */
const LAUNCH_PERMISSION = "phone";
const LOG_SIZE = 8;

type LogEntry = SampleDecision & { n: number; at: string };

/**
 * /sample-app: a simulated MuMuPlayer Pro client in a phone frame, using Custos as an integrator
 * would (issue 4, section 8). Sign-up accepts the policy; device permissions show their purpose first;
 * the feed is personalised only with the separate consent and the switch on; the ad slot always has an
 * advert; "players nearby" asks the separate location consent and the permission. Its game backend
 * (/api/v1/sample-app/*) decides with the Custos SDK; the side panel shows what it decided and the
 * web page's cookie banner.
 */
export const SampleAppPage = () => {
  const { t, i18n } = useTranslation();
  const lang: Lang = i18n.language === "zh-CN" ? "zh-CN" : "en";
  const { state: me } = useMe();
  const signedIn = me.status === "signed-in";
  const [log, setLog] = useState<LogEntry[]>([]);
  const counter = useRef(0);
  const [version, setVersion] = useState(0);
  const [tab, setTab] = useState("feed");
  const [permissions, setPermissions] = useState<PermissionsView | null>(null);
  const [launched, setLaunched] = useState(false);
  const { ask, element: permissionPrompt } = usePermissionPrompt();

  const onDecision = useCallback((decision: SampleDecision) => {
    counter.current += 1;
    const entry = { ...decision, n: counter.current, at: new Date().toISOString() };
    setLog((old) => [entry, ...old].slice(0, LOG_SIZE));
    setVersion((v) => v + 1);
  }, []);
  const backend = useSampleBackend(signedIn && launched, onDecision);

  const loadPermissions = useCallback(async () => {
    const view = await apiGet<PermissionsView>("/api/v1/me/permissions", { lang });
    setPermissions(view);
    return view;
  }, [lang]);

  // First launch after sign-in: the device-information permission, if it was never asked and is not
  // in its cool-down, with the purpose notice before the system prompt. Then the app opens.
  const launching = useRef(false);
  useEffect(() => {
    if (!signedIn) {
      setLaunched(false);
      return;
    }
    if (launched || launching.current) return;
    launching.current = true;
    (async () => {
      try {
        const view = await loadPermissions();
        const permission = view.permissions.find((p) => p.permissionId === LAUNCH_PERMISSION);
        if (permission && permission.state === "not-asked") {
          const may = await shouldShow("permission", LAUNCH_PERMISSION);
          if (may.show) {
            await ask(permission);
            await loadPermissions();
          }
        }
      } catch {
        // The app opens anyway; the permission can be given under "Me".
      }
      launching.current = false;
      setLaunched(true);
    })();
  }, [signedIn, launched, loadPermissions, ask]);

  // Permissions in the language shown.
  useEffect(() => {
    if (signedIn) void loadPermissions().catch(() => undefined);
  }, [signedIn, loadPermissions]);

  const username = me.status === "signed-in" ? me.me.username : null;

  const phone = (() => {
    if (me.status === "loading") return <LoadingState />;
    if (me.status === "signed-out") return <AuthScreen />;
    if (!launched) return <LoadingState label={t("sampleApp.starting")} />;
    return (
      <Tabs
        label={t("sampleApp.tabs.label")}
        selected={tab}
        onSelect={setTab}
        tabs={[
          {
            id: "feed",
            label: t("sampleApp.tabs.feed"),
            content: (
              <FeedTab
                feed={backend.feed}
                ad={backend.ad}
                updating={backend.updating}
                refresh={backend.refresh}
              />
            ),
          },
          {
            id: "nearby",
            label: t("sampleApp.tabs.nearby"),
            content: (
              <NearbyTab loadPermissions={loadPermissions} askPermission={ask} onDecision={onDecision} />
            ),
          },
          {
            id: "me",
            label: t("sampleApp.tabs.me"),
            content: (
              <MeTab
                username={username}
                permissions={permissions}
                reloadPermissions={loadPermissions}
                askPermission={ask}
                refresh={backend.refresh}
                version={version}
              />
            ),
          },
        ]}
      />
    );
  })();

  return (
    <div className="ui-stack ui-stack--lg">
      <PageHeader title={t("sampleApp.title")} lead={t("sampleApp.lead")} />
      <div className="sample-layout">
        <PhoneFrame>{phone}</PhoneFrame>
        <div className="ui-stack ui-stack--lg">
          <Card title={t("sampleApp.explain.title")} headingLevel={2}>
            <div className="ui-stack">
              <p>{t("sampleApp.explain.lead")}</p>
              <ul>
                <li>{t("sampleApp.explain.signUp")}</li>
                <li>{t("sampleApp.explain.permissions")}</li>
                <li>{t("sampleApp.explain.feed")}</li>
                <li>{t("sampleApp.explain.ads")}</li>
                <li>{t("sampleApp.explain.location")}</li>
              </ul>
              <p>
                <Link to="/center">{t("sampleApp.explain.center")}</Link>
              </p>
            </div>
          </Card>
          <Card title={t("sampleApp.log.title")} headingLevel={2}>
            <div className="ui-stack">
              <p className="ui-muted">{t("sampleApp.log.lead")}</p>
              {log.length === 0 ? (
                <p>{t("sampleApp.log.empty")}</p>
              ) : (
                <ol className="sample-log" data-testid="decision-log">
                  {log.map((d) => (
                    <li
                      key={d.n}
                      data-allow={String(d.allow)}
                      data-purpose={d.purposeId}
                      data-source={d.source}
                    >
                      <code>{d.purposeId}</code> →{" "}
                      {d.allow ? t("sampleApp.log.allow") : t("sampleApp.log.deny")} (<code>{d.reason}</code>)
                      · {t(`sampleApp.reason.${d.reason}`)} ·{" "}
                      {d.source === "snapshot"
                        ? t("sampleApp.log.snapshot", { age: d.ageMs ?? 0 })
                        : t("sampleApp.log.server")}
                    </li>
                  ))}
                </ol>
              )}
            </div>
          </Card>
          <BannerEmbed />
        </div>
      </div>
      {permissionPrompt}
    </div>
  );
};
