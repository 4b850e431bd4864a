import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Badge, Button, Card } from "../../ui/index.ts";

/**
 * The web part of the sample app, set up as an integrator would (docs/banner.md): the consent
 * banner's script from /banner/v1/manifest.json (with its integrity hash), a
 * `<custos-consent-banner>` in the page's language, and an analytics tag written as
 * `type="text/plain"` with `data-custos-category="analytics"`, which the banner runs only once
 * analytics cookies are allowed (CON-11).
 */

type Choices = { analytics: boolean; advertising: boolean; gpc?: boolean };
type CustosConsent = { choices: () => Choices; gpc: boolean; open: () => void };

const SCRIPT_MARK = "data-sample-banner";
const TAG_MARK = "data-sample-analytics-tag";
const ANALYTICS_SRC = "/api/v1/sample-app/analytics.js";

const custosConsent = () => (window as Window & { custosConsent?: CustosConsent }).custosConsent;
const analyticsRan = () => document.documentElement.getAttribute("data-sample-analytics") === "ran";

export const BannerEmbed = () => {
  const { t, i18n } = useTranslation();
  const lang = i18n.language === "zh-CN" ? "zh-CN" : "en";
  const holder = useRef<HTMLDivElement>(null);
  const [choices, setChoices] = useState<Choices | null>(() => custosConsent()?.choices() ?? null);
  const [ran, setRan] = useState(analyticsRan);
  const [failed, setFailed] = useState(false);

  // The script, once per page load, and the tagged analytics script it may run.
  useEffect(() => {
    if (!document.querySelector(`script[${TAG_MARK}]`)) {
      const tag = document.createElement("script");
      tag.type = "text/plain";
      tag.dataset.custosCategory = "analytics";
      tag.setAttribute(TAG_MARK, "");
      tag.src = ANALYTICS_SRC;
      document.head.append(tag);
    }
    if (document.querySelector(`script[${SCRIPT_MARK}]`)) return;
    let live = true;
    fetch("/banner/v1/manifest.json", { credentials: "omit" })
      .then((r) => (r.ok ? (r.json() as Promise<{ src: string; integrity: string }>) : Promise.reject()))
      .then(({ src, integrity }) => {
        if (!live || document.querySelector(`script[${SCRIPT_MARK}]`)) return;
        const script = document.createElement("script");
        script.src = src;
        script.integrity = integrity;
        script.crossOrigin = "anonymous";
        script.setAttribute(SCRIPT_MARK, "");
        script.addEventListener("error", () => setFailed(true));
        document.head.append(script);
      })
      .catch(() => {
        if (live) setFailed(true);
      });
    return () => {
      live = false;
    };
  }, []);

  // The element, in the page's language (a new element when the language changes).
  useEffect(() => {
    const el = document.createElement("custos-consent-banner");
    el.setAttribute("lang", lang);
    holder.current?.append(el);
    return () => el.remove();
  }, [lang]);

  useEffect(() => {
    const onConsent = (event: Event) => setChoices({ ...(event as CustomEvent<Choices>).detail });
    const onAnalytics = () => setRan(true);
    document.addEventListener("custos:consent", onConsent);
    document.addEventListener("sample-app:analytics", onAnalytics);
    return () => {
      document.removeEventListener("custos:consent", onConsent);
      document.removeEventListener("sample-app:analytics", onAnalytics);
    };
  }, []);

  const onOff = (on: boolean | undefined) => (
    <Badge tone={on ? "success" : "neutral"}>
      {on ? t("sampleApp.cookies.on") : t("sampleApp.cookies.off")}
    </Badge>
  );

  return (
    <Card title={t("sampleApp.cookies.title")} headingLevel={2}>
      <div className="ui-stack" data-testid="sample-cookies">
        <p className="ui-muted">{t("sampleApp.cookies.lead")}</p>
        {failed ? <p>{t("sampleApp.cookies.failed")}</p> : null}
        <dl>
          <dt>{t("sampleApp.cookies.necessary")}</dt>
          <dd>{onOff(true)}</dd>
          <dt>{t("sampleApp.cookies.analytics")}</dt>
          <dd data-testid="cookie-analytics">{onOff(choices?.analytics)}</dd>
          <dt>{t("sampleApp.cookies.advertising")}</dt>
          <dd data-testid="cookie-advertising">{onOff(choices?.advertising)}</dd>
          <dt>{t("sampleApp.cookies.tag")}</dt>
          <dd data-testid="analytics-tag" data-ran={String(ran)}>
            {ran ? t("sampleApp.cookies.tagRan") : t("sampleApp.cookies.tagBlocked")}
          </dd>
        </dl>
        {choices?.gpc ? <p>{t("sampleApp.cookies.gpc")}</p> : null}
        <div>
          <Button variant="secondary" size="sm" onClick={() => custosConsent()?.open()}>
            {t("sampleApp.cookies.settings")}
          </Button>
        </div>
        <div ref={holder} />
      </div>
    </Card>
  );
};
