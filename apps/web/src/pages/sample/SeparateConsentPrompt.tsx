import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { PersonalInformationList, ThirdPartyList } from "../../api/types.ts";
import { useApi } from "../../api/use-api.ts";
import { Alert } from "../../ui/index.ts";
import { messageOf } from "../center/account/account-api.ts";
import type { ConsentView } from "../center/ConsentsPage.tsx";
import {
  dialogCategories,
  dialogRecipients,
  SeparateConsentDialog,
} from "../center/SeparateConsentDialog.tsx";
import { type Lang, recordConsent, recordPrompt } from "./sample-api.ts";

export type ConsentResult = "given" | "refused" | "dismissed";

/**
 * The app asks a separate consent (CON-4) on its own screen: the privacy center's separate-consent
 * dialog, filled from the manifest (what, which information, who receives it, what refusing changes).
 * Agreeing or refusing is recorded in the consent ledger (method app); every answer is logged for the
 * prompt cool-down (CON-7).
 */
export const SeparateConsentPrompt = ({
  purposeId,
  open,
  onDone,
}: {
  purposeId: string;
  open: boolean;
  onDone: (result: ConsentResult) => void;
}) => {
  const { t, i18n } = useTranslation();
  const lang: Lang = i18n.language === "zh-CN" ? "zh-CN" : "en";
  const consents = useApi<ConsentView>(open ? "/api/v1/me/consents" : null);
  const pi = useApi<PersonalInformationList>(open ? "/api/v1/policy/personal-information" : null);
  const parties = useApi<ThirdPartyList>(open ? "/api/v1/policy/third-parties" : null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const purpose =
    consents.status === "ok" ? consents.data.purposes.find((p) => p.purposeId === purposeId) : undefined;
  // Opens once the purpose and its lists are loaded (a failed list leaves its section empty).
  const ready =
    open &&
    consents.status === "ok" &&
    purpose !== undefined &&
    pi.status !== "loading" &&
    parties.status !== "loading";

  const answer = async (result: ConsentResult) => {
    setBusy(true);
    setError(null);
    try {
      if (result !== "dismissed" && consents.status === "ok")
        await recordConsent(purposeId, result, consents.data.noticeVersion, lang);
      await recordPrompt(
        "purpose",
        purposeId,
        result === "given" ? "accepted" : result === "refused" ? "refused" : "dismissed",
        lang,
      );
      onDone(result);
    } catch (err) {
      setError(messageOf(err, t("sampleApp.error")));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      {error ? <Alert tone="error">{error}</Alert> : null}
      {open && consents.status === "error" ? (
        <Alert tone="error">{messageOf(consents.error, t("sampleApp.error"))}</Alert>
      ) : null}
      <SeparateConsentDialog
        open={ready}
        name={purpose?.name ?? ""}
        description={purpose?.description ?? ""}
        reason={purpose?.separateReason ?? null}
        categories={dialogCategories(pi.status === "ok" ? pi.data : undefined, purposeId)}
        recipients={dialogRecipients(parties.status === "ok" ? parties.data : undefined, purposeId)}
        refusalImpact={purpose?.refusalImpact ?? ""}
        busy={busy}
        onAgree={() => void answer("given")}
        onRefuse={() => void answer("refused")}
        onClose={() => {
          if (!busy) void answer("dismissed");
        }}
      />
    </>
  );
};
