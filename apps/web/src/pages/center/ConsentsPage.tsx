import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { type ApiError, asApiError } from "../../api/client.ts";
import type { PersonalInformationList, ThirdPartyList } from "../../api/types.ts";
import { useApi } from "../../api/use-api.ts";
import {
  Alert,
  Badge,
  type BadgeTone,
  Button,
  ButtonLink,
  buttonClass,
  Card,
  ErrorState,
  LoadingState,
  PageHeader,
} from "../../ui/index.ts";
import { apiSend } from "./account/account-api.ts";
import { HomeCard } from "./HomeCard.tsx";
import { dialogCategories, dialogRecipients, SeparateConsentDialog } from "./SeparateConsentDialog.tsx";

/** GET /api/v1/me/consents (docs/CONTRACTS.md, consent ledger). */
export type PurposeConsent = {
  purposeId: string;
  name: string;
  description: string;
  legalBasis: string;
  consent: "policy" | "separate" | "none";
  separateReason: string | null;
  function: "basic" | "extended";
  state: string;
  via: "purpose" | "policy" | null;
  askAgain: boolean;
  allowed: boolean;
  refusalImpact: string;
};
export type ConsentView = {
  noticeVersion: string;
  policy: { state: string; noticeVersion: string | null; askAgain: boolean };
  purposes: PurposeConsent[];
};

type Choice = "given" | "refused" | "withdrawn";
type Done = { tone: "success" | "info"; text: string };

const RECEIPT_FORMATS = [
  { format: "iso27560", key: "iso" },
  { format: "kantara", key: "kantara" },
] as const;

const stateTone = (p: { state: string; askAgain: boolean; allowed: boolean }): BadgeTone => {
  if (p.askAgain) return "warning";
  if (p.state === "not-needed") return "neutral";
  if (p.allowed) return "success";
  return p.state === "refused" || p.state === "withdrawn" ? "warning" : "neutral";
};

/** The card on the privacy center's home page that leads here. */
export const ConsentsHomeCard = () => {
  const { t } = useTranslation();
  return (
    <HomeCard
      title={t("consents.home.title")}
      lead={t("consents.home.lead")}
      to="/center/consents"
      open={t("consents.home.open")}
    />
  );
};

/**
 * /center/consents: every purpose, grouped basic / extended, with its legal basis and the person's
 * choice. Giving is one press (a separate consent: its own dialog first); withdrawing is always one
 * press (CON-5). Purposes changed since the person decided are flagged (CON-13). Receipts download
 * as ISO/IEC TS 27560 or Kantara JSON (CON-12).
 */
export const ConsentsPage = () => {
  const { t, i18n } = useTranslation();
  const lang = i18n.language === "zh-CN" ? "zh-CN" : "en";
  const loaded = useApi<ConsentView>("/api/v1/me/consents");
  const pi = useApi<PersonalInformationList>("/api/v1/policy/personal-information");
  const parties = useApi<ThirdPartyList>("/api/v1/policy/third-parties");
  const [updated, setUpdated] = useState<{ lang: string; view: ConsentView } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [done, setDone] = useState<Done | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [dialogFor, setDialogFor] = useState<string | null>(null);

  if (loaded.status === "loading") return <LoadingState />;
  if (loaded.status === "error") {
    if (loaded.error.status === 401)
      return (
        <div className="ui-stack ui-stack--lg">
          <PageHeader title={t("consents.title")} lead={t("consents.lead")} />
          <Alert tone="info" title={t("consents.signedOutTitle")}>
            <p>{t("consents.signedOut")}</p>
            <div className="ui-row">
              <ButtonLink to="/center/account/sign-in" variant="primary">
                {t("consents.signIn")}
              </ButtonLink>
              <ButtonLink to="/center/account/sign-up">{t("consents.signUp")}</ButtonLink>
            </div>
          </Alert>
        </div>
      );
    return <ErrorState error={loaded.error} onRetry={loaded.reload} />;
  }
  // The answer to the last change, while it is in the language shown; otherwise what was loaded.
  const view = updated && updated.lang === lang ? updated.view : loaded.data;

  const record = async (
    target: { purposeId: string } | { policy: true },
    state: Choice,
    doneText: (v: ConsentView) => string,
  ) => {
    const key = "policy" in target ? "policy" : target.purposeId;
    setBusy(key);
    setError(null);
    setDone(null);
    try {
      const next = await apiSend<ConsentView>("POST", "/api/v1/me/consents", {
        ...target,
        state,
        noticeVersion: view.noticeVersion,
        language: lang,
        method: "web",
      });
      setUpdated({ lang, view: next });
      setDone({ tone: state === "given" ? "success" : "info", text: doneText(next) });
      setDialogFor(null);
    } catch (e) {
      const apiError = asApiError(e);
      setError(apiError);
      // The notice changed under the page: show the one in force.
      if (apiError.status === 409) loaded.reload();
    } finally {
      setBusy(null);
    }
  };

  const decide = (p: PurposeConsent, state: Choice) =>
    record({ purposeId: p.purposeId }, state, () => t(`consents.done.${state}`, { name: p.name }));

  const categoriesOf = (purposeId: string) =>
    dialogCategories(pi.status === "ok" ? pi.data : undefined, purposeId);
  const recipientsOf = (purposeId: string) =>
    dialogRecipients(parties.status === "ok" ? parties.data : undefined, purposeId);

  const stateLabel = (p: PurposeConsent) =>
    p.state === "given" && p.via === "policy"
      ? t("consents.state.given-policy")
      : t(`consents.state.${p.state}`);

  const action = (p: PurposeConsent) => {
    const hidden = <span className="ui-visually-hidden"> · {p.name}</span>;
    if (p.consent === "none") return <p className="ui-muted">{t("consents.noConsentNeeded")}</p>;
    if (p.allowed)
      return (
        <Button variant="secondary" onClick={() => decide(p, "withdrawn")} disabled={busy !== null}>
          {t("consents.withdraw")}
          {hidden}
        </Button>
      );
    if (p.consent === "separate")
      return (
        <Button
          variant="primary"
          onClick={() => setDialogFor(p.purposeId)}
          disabled={busy !== null}
          aria-haspopup="dialog"
        >
          {t("consents.review")}
          {hidden}
        </Button>
      );
    return (
      <Button variant="primary" onClick={() => decide(p, "given")} disabled={busy !== null}>
        {p.askAgain || p.state === "withdrawn" ? t("consents.giveAgain") : t("consents.give")}
        {hidden}
      </Button>
    );
  };

  const card = (p: PurposeConsent) => (
    <Card
      as="li"
      key={p.purposeId}
      title={p.name}
      tone={p.askAgain ? "highlight" : "default"}
      aside={
        <span className="ui-row">
          {p.askAgain ? <Badge tone="warning">{t("consents.changed")}</Badge> : null}
          <Badge tone={p.consent === "separate" ? "info" : "neutral"}>
            {t(`consents.kind.${p.consent}`)}
          </Badge>
        </span>
      }
      footer={action(p)}
    >
      <div className="ui-stack" data-testid={`purpose-${p.purposeId}`} data-state={p.state}>
        <p>{p.description}</p>
        {p.askAgain ? (
          <Alert tone="warning">
            <p>{t("consents.changedLead")}</p>
          </Alert>
        ) : null}
        <dl>
          <dt>{t("consents.legalBasis")}</dt>
          <dd>{t(`consents.basis.${p.legalBasis}`)}</dd>
          <dt>{t("consents.yourChoice")}</dt>
          <dd data-testid="purpose-state">
            <Badge tone={stateTone(p)}>{stateLabel(p)}</Badge>
          </dd>
          {p.separateReason ? (
            <>
              <dt>{t("consents.whySeparate")}</dt>
              <dd>{t(`consents.separateReason.${p.separateReason}`)}</dd>
            </>
          ) : null}
          {p.consent !== "none" ? (
            <>
              <dt>{t("consents.refusal")}</dt>
              <dd>{p.refusalImpact}</dd>
            </>
          ) : null}
        </dl>
      </div>
    </Card>
  );

  const group = (fn: "basic" | "extended") => (
    <section aria-labelledby={`consents-${fn}`} className="ui-stack">
      <h2 className="ui-section-title" id={`consents-${fn}`}>
        {t(`consents.${fn}Title`)}
      </h2>
      <p className="ui-muted">{t(`consents.${fn}Lead`)}</p>
      <ul className="ui-grid ui-grid--wide ui-list-reset" data-testid={`consents-${fn}`}>
        {view.purposes.filter((p) => p.function === fn).map(card)}
      </ul>
    </section>
  );

  const policy = view.policy;
  const policyGiven = policy.state === "given" && !policy.askAgain;
  const policyDone = (state: Choice) => () =>
    state === "given"
      ? t("consents.policy.accepted", { version: view.noticeVersion })
      : t("consents.policy.withdrawn");
  const open = view.purposes.find((p) => p.purposeId === dialogFor);

  return (
    <div className="ui-stack ui-stack--lg">
      <PageHeader
        title={t("consents.title")}
        lead={t("consents.lead")}
        meta={<Badge tone="info">{t("consents.noticeVersion", { version: view.noticeVersion })}</Badge>}
      />
      {/* Always in the page, so a screen reader announces each change of its text. */}
      <div
        role="status"
        className={done ? `ui-alert ui-alert--${done.tone}` : undefined}
        data-testid="consent-status"
      >
        {done ? (
          <div className="ui-alert__body">
            <p>{done.text}</p>
          </div>
        ) : null}
      </div>
      {error ? <ErrorState error={error} /> : null}

      <Card
        title={t("consents.policy.title")}
        headingLevel={2}
        tone={policy.askAgain ? "highlight" : "default"}
        aside={
          <span className="ui-row" data-testid="policy-state">
            {policy.askAgain ? <Badge tone="warning">{t("consents.changed")}</Badge> : null}
            <Badge tone={policyGiven ? "success" : "neutral"}>{t(`consents.state.${policy.state}`)}</Badge>
          </span>
        }
        footer={
          <span className="ui-row">
            {policyGiven ? (
              <Button
                variant="secondary"
                onClick={() => record({ policy: true }, "withdrawn", policyDone("withdrawn"))}
                disabled={busy !== null}
              >
                {t("consents.policy.withdraw")}
              </Button>
            ) : (
              <Button
                variant="primary"
                onClick={() => record({ policy: true }, "given", policyDone("given"))}
                disabled={busy !== null}
              >
                {policy.askAgain ? t("consents.policy.acceptAgain") : t("consents.policy.accept")}
              </Button>
            )}
            <Link to="/center/policy/privacy-policy">{t("consents.policy.read")}</Link>
          </span>
        }
      >
        {policy.askAgain ? (
          <Alert tone="warning">
            <p>{t("consents.policy.changed")}</p>
          </Alert>
        ) : null}
        <p className="ui-muted">{t("consents.policy.lead")}</p>
      </Card>

      {group("basic")}
      {group("extended")}

      <Card title={t("consents.receipts.title")} headingLevel={2}>
        <p className="ui-muted">{t("consents.receipts.lead")}</p>
        <p className="ui-row">
          {RECEIPT_FORMATS.map(({ format, key }) => (
            <a
              key={format}
              className={buttonClass("secondary", "sm")}
              href={`/api/v1/me/consents/receipts?format=${format}`}
              download={`consent-receipts-${format}.json`}
            >
              {t(`consents.receipts.${key}`)}
            </a>
          ))}
        </p>
      </Card>

      <SeparateConsentDialog
        open={open !== undefined}
        name={open?.name ?? ""}
        description={open?.description ?? ""}
        reason={open?.separateReason ?? null}
        categories={open ? categoriesOf(open.purposeId) : []}
        recipients={open ? recipientsOf(open.purposeId) : []}
        refusalImpact={open?.refusalImpact ?? ""}
        busy={busy !== null}
        onAgree={() => open && decide(open, "given")}
        onRefuse={() => open && decide(open, "refused")}
        onClose={() => setDialogFor(null)}
      />
    </div>
  );
};
