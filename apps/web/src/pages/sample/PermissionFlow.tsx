import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Alert, Badge, Button, Dialog } from "../../ui/index.ts";
import { messageOf } from "../center/account/account-api.ts";
import { type Lang, type PermissionsView, recordPrompt, reportPermission } from "./sample-api.ts";

export type PermissionResult = "granted" | "denied" | "dismissed";
type Permission = PermissionsView["permissions"][number];

/**
 * A device permission asked the way CON-10 wants: first the app's own screen with the purpose notice
 * from the manifest (why, and what refusing changes), and only then the (simulated) system prompt.
 * The answer is reported with the notice that was shown (its hash) and logged for the cool-down.
 */
export const PermissionFlow = ({
  permission,
  onDone,
}: {
  /** The permission to ask for; undefined: nothing is asked. */
  permission: Permission | undefined;
  onDone: (result: PermissionResult) => void;
}) => {
  const { t, i18n } = useTranslation();
  const lang: Lang = i18n.language === "zh-CN" ? "zh-CN" : "en";
  const [step, setStep] = useState<"notice" | "system">("notice");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const permissionId = permission?.permissionId;

  // Every new request starts at the notice.
  useEffect(() => {
    if (permissionId) {
      setStep("notice");
      setError(null);
    }
  }, [permissionId]);

  // The last permission asked, so the dialogs keep their text while they close.
  const [shown, setShown] = useState<Permission | undefined>(permission);
  useEffect(() => {
    if (permission) setShown(permission);
  }, [permission]);
  const p = permission ?? shown;
  if (!p) return null;

  const finish = async (result: PermissionResult) => {
    if (!permission) return;
    setBusy(true);
    setError(null);
    try {
      if (result === "dismissed")
        await recordPrompt("permission", permission.permissionId, "dismissed", lang);
      else {
        await reportPermission(permission, result, lang);
        await recordPrompt(
          "permission",
          permission.permissionId,
          result === "granted" ? "accepted" : "refused",
          lang,
        );
      }
      onDone(result);
    } catch (err) {
      setError(messageOf(err, t("sampleApp.error")));
    } finally {
      setBusy(false);
    }
  };

  const errorBox = error ? <Alert tone="error">{error}</Alert> : null;

  return (
    <>
      <Dialog
        open={permission !== undefined && step === "notice"}
        onClose={() => void finish("dismissed")}
        title={t("sampleApp.permission.noticeTitle", { name: p.name })}
        footer={
          <>
            <Button variant="secondary" onClick={() => void finish("dismissed")} disabled={busy}>
              {t("sampleApp.permission.notNow")}
            </Button>
            <Button onClick={() => setStep("system")} disabled={busy}>
              {t("sampleApp.permission.continue")}
            </Button>
          </>
        }
      >
        <div className="ui-stack" data-testid="permission-notice" data-permission={p.permissionId}>
          {p.sensitive ? <Badge tone="sensitive">{t("sampleApp.permission.sensitive")}</Badge> : null}
          <p data-testid="permission-notice-text">{p.notice}</p>
          <p className="ui-muted">
            {t("sampleApp.permission.usedFor", {
              purposes: p.purposes.map((x) => x.name).join(t("sampleApp.listSeparator")),
            })}
          </p>
          <p className="ui-muted">{t("sampleApp.permission.ifRefused", { impact: p.refusalImpact })}</p>
          <p className="ui-muted">{t("sampleApp.permission.nextSystem")}</p>
          {errorBox}
        </div>
      </Dialog>
      <Dialog
        open={permission !== undefined && step === "system"}
        onClose={() => void finish("dismissed")}
        title={t("sampleApp.permission.systemTitle", { name: p.name })}
        footer={
          <>
            <Button variant="secondary" onClick={() => void finish("denied")} disabled={busy}>
              {t("sampleApp.permission.deny")}
            </Button>
            <Button onClick={() => void finish("granted")} disabled={busy}>
              {t("sampleApp.permission.allow")}
            </Button>
          </>
        }
      >
        <div className="sample-system-prompt" data-testid="system-prompt" data-permission={p.permissionId}>
          <p className="sample-system-prompt__os">{t("sampleApp.permission.systemOs")}</p>
          <p>{t("sampleApp.permission.systemLead", { name: p.name })}</p>
          {p.platformNames[0] ? (
            <p className="ui-muted">
              <code>{p.platformNames[0]}</code>
            </p>
          ) : null}
          {errorBox}
        </div>
      </Dialog>
    </>
  );
};

/** One PermissionFlow for a screen: `ask(permission)` shows it and resolves with the answer. */
export const usePermissionPrompt = () => {
  const [request, setRequest] = useState<{
    permission: Permission;
    resolve: (result: PermissionResult) => void;
  } | null>(null);
  const ask = useCallback(
    (permission: Permission) =>
      new Promise<PermissionResult>((resolve) => setRequest({ permission, resolve })),
    [],
  );
  const element = (
    <PermissionFlow
      permission={request?.permission}
      onDone={(result) => {
        request?.resolve(result);
        setRequest(null);
      }}
    />
  );
  return { ask, element };
};
