import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router-dom";
import { Alert } from "../../ui/index.ts";

/**
 * Third-party sign-in (ACC-2) pieces for the account pages: the policy notice shown next to the
 * provider buttons, the start URL that records the acceptance of that policy version, and the
 * message after the provider sent the person back (`?oidc=<code>`).
 */

const MESSAGE_CODES = [
  "denied",
  "failed",
  "expired",
  "state-mismatch",
  "policy-required",
  "already-linked",
  "account-locked",
  "signed-out",
  "not-linked",
  "linked",
  "verified",
] as const;
type MessageCode = (typeof MESSAGE_CODES)[number];
const GOOD: readonly MessageCode[] = ["linked", "verified"];

/** The start URL of a provider button: the policy version the person sees, and their language. */
export const oidcStartHref = (
  startUrl: string,
  options: {
    policyVersion?: string | undefined;
    lang: string;
    mode?: "login" | "link" | "reauth";
    returnTo?: string;
  },
): string => {
  const params = new URLSearchParams();
  if (options.mode && options.mode !== "login") params.set("mode", options.mode);
  if (options.policyVersion && (options.mode ?? "login") === "login")
    params.set("acceptPolicy", options.policyVersion);
  params.set("lang", options.lang === "zh-CN" ? "zh-CN" : "en");
  if (options.returnTo) params.set("returnTo", options.returnTo);
  return `${startUrl}?${params.toString()}`;
};

/** "Continuing creates an account and accepts the policy (version …)", with a link to read it. */
export const OidcPolicyNotice = ({ policyVersion }: { policyVersion?: string | undefined }) => {
  const { t } = useTranslation();
  if (!policyVersion) return null;
  return (
    <p className="ui-muted" data-testid="oidc-policy-notice">
      {t("oidc.policyNotice", { version: policyVersion })}{" "}
      <Link to="/center/policy/privacy-policy">{t("oidc.readPolicy")}</Link>
    </p>
  );
};

/** The outcome a provider round trip left in the URL (`?oidc=denied`, …), as a message. */
export const OidcMessage = () => {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const code = params.get("oidc");
  if (!code || !(MESSAGE_CODES as readonly string[]).includes(code)) return null;
  const ok = GOOD.includes(code as MessageCode);
  return (
    <Alert tone={ok ? "success" : code === "denied" ? "info" : "error"}>
      <p>{t(`oidc.messages.${code}`)}</p>
    </Alert>
  );
};
