import type { Language } from "@custos/manifest";

/** User-facing account messages in both languages (the error body carries the user's language where the route knows it). */
const MESSAGES = {
  loginFailed: {
    en: () => "The sign-in details are wrong. Check them and try again, or sign in with a one-time code.",
    "zh-CN": () => "登录信息不正确。请检查后重试，或使用验证码登录。",
  },
  identifierLocked: {
    en: (p: { minutes: number; at: string }) =>
      `Too many failed sign-in attempts. Sign-in for this account is paused; try again in ${p.minutes} minute(s) (after ${p.at} UTC), or recover the account with a code.`,
    "zh-CN": (p: { minutes: number; at: string }) =>
      `登录失败次数过多，该账号已暂停登录。请在 ${p.minutes} 分钟后（UTC ${p.at} 之后）重试，或通过验证码找回账号。`,
  },
  ipLocked: {
    en: (p: { minutes: number; at: string }) =>
      `Too many failed attempts from your network. Try again in ${p.minutes} minute(s) (after ${p.at} UTC).`,
    "zh-CN": (p: { minutes: number; at: string }) =>
      `您所在网络的失败尝试次数过多，请在 ${p.minutes} 分钟后（UTC ${p.at} 之后）重试。`,
  },
  codeCooldown: {
    en: (p: { seconds: number }) =>
      `A code was sent a moment ago. Wait ${p.seconds} second(s) before asking for another.`,
    "zh-CN": (p: { seconds: number }) => `验证码刚刚已发送，请等待 ${p.seconds} 秒后再重新获取。`,
  },
  codeWrong: {
    en: (p: { left: number }) =>
      `The code is wrong. Check the latest message we sent and try again (${p.left} attempt(s) left).`,
    "zh-CN": (p: { left: number }) => `验证码不正确，请核对最新收到的消息后重试（还可尝试 ${p.left} 次）。`,
  },
  codeDead: {
    en: () => "This code has expired or can no longer be used. Ask for a new code.",
    "zh-CN": () => "该验证码已过期或已失效，请重新获取验证码。",
  },
  accountLocked: {
    en: () =>
      "This account is locked because a possible compromise was reported. Recover it with a code sent to your verified contact.",
    "zh-CN": () => "由于已报告账号可能被盗用，该账号已被锁定。请通过发送到您已验证联系方式的验证码找回账号。",
  },
} as const;

type Messages = typeof MESSAGES;
type Params<K extends keyof Messages> = Parameters<Messages[K]["en"]>[0];

export function message<K extends keyof Messages>(
  lang: Language,
  key: K,
  ...params: Params<K> extends undefined ? [] : [Params<K>]
): string {
  const fn = MESSAGES[key][lang] as (p?: unknown) => string;
  return fn(params[0]);
}

/** The language a request prefers: an explicit value, else Accept-Language, else English. */
export function requestLanguage(explicit: string | undefined, acceptLanguage: string | undefined): Language {
  if (explicit === "zh-CN" || explicit === "en") return explicit;
  return /^\s*zh/i.test(acceptLanguage ?? "") ? "zh-CN" : "en";
}
