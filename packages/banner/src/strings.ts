import type { Category, Language } from "./state.ts";

/** The banner's own words; category names and descriptions come from the manifest. */
export type BannerText = {
  title: string;
  intro: string;
  acceptAll: string;
  rejectAll: string;
  choose: string;
  save: string;
  close: string;
  reopen: string;
  preferences: string;
  alwaysOn: string;
  gpcHonoured: string;
  policyLink: string;
};

export type BannerConfig = {
  noticeVersion: string;
  language: Language;
  /** The request carried `Sec-GPC: 1`. */
  gpc: boolean;
  policyUrl: string;
  categories: { id: Category; necessary: boolean; name: string; description: string }[];
  text: BannerText;
};

export const BANNER_TEXT: Record<Language, BannerText> = {
  en: {
    title: "Cookies on this site",
    intro:
      "We use cookies that are needed to keep you signed in. With your permission we would also use cookies to analyse use and to improve advertising. Nothing is switched on until you choose.",
    acceptAll: "Accept all",
    rejectAll: "Reject all",
    choose: "Choose",
    save: "Save my choices",
    close: "Close",
    reopen: "Cookie settings",
    preferences: "Choose which cookies we may use",
    alwaysOn: "Always on",
    gpcHonoured:
      "Your browser sent a Global Privacy Control signal, so analytics and advertising cookies stay off.",
    policyLink: "Privacy policy",
  },
  "zh-CN": {
    title: "本网站使用 Cookie",
    intro:
      "我们使用保持您登录状态所必需的 Cookie。经您同意后，我们还会使用 Cookie 分析使用情况并优化广告。在您作出选择之前，不会开启任何非必要 Cookie。",
    acceptAll: "全部接受",
    rejectAll: "全部拒绝",
    choose: "自行选择",
    save: "保存我的选择",
    close: "关闭",
    reopen: "Cookie 设置",
    preferences: "选择允许我们使用的 Cookie",
    alwaysOn: "始终开启",
    gpcHonoured: "您的浏览器发出了“全球隐私控制”（GPC）信号，因此分析和广告 Cookie 将保持关闭。",
    policyLink: "隐私政策",
  },
};
