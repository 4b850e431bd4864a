import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client.ts";
import { useApi } from "../../api/use-api.ts";
import {
  Alert,
  Badge,
  Button,
  Card,
  EmptyState,
  ErrorState,
  LoadingState,
  PageHeader,
  TextInput,
} from "../../ui/index.ts";
import { StaffArea } from "./StaffArea.tsx";
import { formatDateTime, type Me, staffPut } from "./staff-api.ts";

/**
 * /console/sdks (CON-16): the third-party SDKs the manifest declares, the purposes each may serve,
 * and a switch for the administrator and the privacy officer. A switched-off SDK is refused at its
 * next start check; each change is audited with its reason.
 */

type Sdk = {
  sdkId: string;
  name: string;
  company: string;
  sdkPurposes: { id: string; name: string }[];
  purposes: { purposeId: string; name: string; legalBasis: string; consent: string }[];
  categories: string[];
  manifestEnabled: boolean;
  enabled: boolean;
  switch: { enabled: boolean; reason: string; changedBy: string; changedAt: string } | null;
};

/** The operations that open this page: the admin's configuration or the privacy officer's manifest. */
const SWITCH_OPERATIONS = ["config.manage", "manifest.publish"];

export const SdksPage = () => <StaffArea>{(me) => <Sdks me={me} />}</StaffArea>;

const Sdks = ({ me }: { me: Me }) => {
  const { t } = useTranslation();
  const allowed = me.operations.some((op) => SWITCH_OPERATIONS.includes(op));
  return (
    <div className="ui-stack">
      <PageHeader title={t("sdks.title")} lead={t("sdks.lead")} />
      {allowed ? (
        <SdkList />
      ) : (
        <Alert tone="info">
          <p>{t("sdks.onlyOfficers")}</p>
        </Alert>
      )}
    </div>
  );
};

const SdkList = () => {
  const { t } = useTranslation();
  const list = useApi<{ sdks: Sdk[] }>("/api/v1/staff/sdks");
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const flip = async (sdk: Sdk, enabled: boolean, reason: string) => {
    setDone(null);
    setError(null);
    try {
      await staffPut(`/api/v1/staff/sdks/${encodeURIComponent(sdk.sdkId)}`, { enabled, reason });
      setDone(t(enabled ? "sdks.switchedOn" : "sdks.switchedOff", { name: sdk.name }));
      list.reload();
    } catch (e) {
      setError(
        e instanceof ApiError
          ? e
          : new ApiError({ status: 0, code: "unexpected", message: "unexpected", fromServer: false }),
      );
    }
  };

  return (
    <>
      <div aria-live="polite">
        {done ? <Alert tone="success">{done}</Alert> : null}
        {error ? <ErrorState error={error} /> : null}
      </div>
      {list.status === "loading" ? <LoadingState /> : null}
      {list.status === "error" ? <ErrorState error={list.error} onRetry={list.reload} /> : null}
      {list.status === "ok" ? (
        list.data.sdks.length ? (
          <ul className="ui-grid ui-grid--wide ui-list-reset" data-testid="sdk-list">
            {list.data.sdks.map((sdk) => (
              <SdkCard key={sdk.sdkId} sdk={sdk} onFlip={flip} />
            ))}
          </ul>
        ) : (
          <EmptyState title={t("sdks.empty")} />
        )
      ) : null}
    </>
  );
};

const SdkCard = ({
  sdk,
  onFlip,
}: {
  sdk: Sdk;
  onFlip: (sdk: Sdk, enabled: boolean, reason: string) => Promise<void>;
}) => {
  const { t, i18n } = useTranslation();
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const status = !sdk.manifestEnabled ? "manifest" : sdk.enabled ? "on" : "off";
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await onFlip(sdk, !sdk.enabled, reason.trim());
      setReason("");
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card
      as="li"
      title={sdk.name}
      aside={
        <span data-testid={`sdk-status-${sdk.sdkId}`}>
          <Badge tone={status === "on" ? "success" : "warning"}>{t(`sdks.status.${status}`)}</Badge>
        </span>
      }
      footer={
        sdk.manifestEnabled ? (
          <form className="ui-stack" onSubmit={submit}>
            <TextInput
              label={t("sdks.reasonLabel", { name: sdk.name })}
              hint={t("sdks.reasonHint")}
              required
              minLength={3}
              maxLength={500}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
            />
            <Button type="submit" variant={sdk.enabled ? "secondary" : "primary"} size="sm" disabled={busy}>
              {t(sdk.enabled ? "sdks.switchOff" : "sdks.switchOn")}
              <span className="ui-visually-hidden"> · {sdk.name}</span>
            </Button>
          </form>
        ) : (
          <p className="ui-muted">{t("sdks.manifestOff")}</p>
        )
      }
    >
      <dl className="ui-stack">
        <div>
          <dt>{t("sdks.sdkId")}</dt>
          <dd>
            <code>{sdk.sdkId}</code>
          </dd>
        </div>
        <div>
          <dt>{t("sdks.company")}</dt>
          <dd>{sdk.company}</dd>
        </div>
        <div>
          <dt>{t("sdks.sdkPurposes")}</dt>
          <dd>{sdk.sdkPurposes.map((p) => p.name).join(" · ")}</dd>
        </div>
        <div>
          <dt>{t("sdks.purposes")}</dt>
          <dd>
            <ul className="ui-list-reset" data-testid={`sdk-purposes-${sdk.sdkId}`}>
              {sdk.purposes.map((p) => (
                <li key={p.purposeId}>
                  {p.name} <span className="ui-muted">({t(`sdks.consentKinds.${p.consent}`)})</span>
                </li>
              ))}
            </ul>
          </dd>
        </div>
        <div>
          <dt>{t("sdks.categories")}</dt>
          <dd>{sdk.categories.join(", ")}</dd>
        </div>
      </dl>
      {sdk.switch ? (
        <p className="ui-muted">
          {t("sdks.lastChange", {
            when: formatDateTime(sdk.switch.changedAt, i18n.language),
            reason: sdk.switch.reason,
          })}
        </p>
      ) : null}
    </Card>
  );
};
