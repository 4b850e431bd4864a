import { createHash } from "node:crypto";
import type { Language } from "@custos/manifest";

/**
 * What the simulated MuMuPlayer Pro game backend serves: feed items, adverts and players nearby,
 * in English and Simplified Chinese. All of it is made up; nothing here is about a real person.
 */

export type Localized = Record<Language, string>;

export const GENRES = ["racing", "strategy", "puzzle", "role-playing", "shooter", "music"] as const;
export type Genre = (typeof GENRES)[number];

/** A genre is also the interest tag the backend infers (tag id `<genre>-games`). */
export const GENRE_TAGS: Record<Genre, { id: string; label: Localized }> = {
  racing: { id: "racing-games", label: { en: "Racing games", "zh-CN": "赛车游戏" } },
  strategy: { id: "strategy-games", label: { en: "Strategy games", "zh-CN": "策略游戏" } },
  puzzle: { id: "puzzle-games", label: { en: "Puzzle games", "zh-CN": "益智游戏" } },
  "role-playing": { id: "role-playing-games", label: { en: "Role-playing games", "zh-CN": "角色扮演游戏" } },
  shooter: { id: "shooter-games", label: { en: "Shooter games", "zh-CN": "射击游戏" } },
  music: { id: "music-games", label: { en: "Music and rhythm games", "zh-CN": "音乐节奏游戏" } },
};

export type ItemKind = "video" | "guide" | "event" | "live";

export type CatalogueItem = { id: string; genre: Genre; kind: ItemKind; title: Localized };

export const ITEMS: readonly CatalogueItem[] = [
  {
    id: "racing-drift-guide",
    genre: "racing",
    kind: "guide",
    title: {
      en: "Drift like a pro: keyboard mapping for racing games",
      "zh-CN": "像高手一样漂移：赛车游戏键位映射指南",
    },
  },
  {
    id: "racing-cup-live",
    genre: "racing",
    kind: "live",
    title: { en: "Live now: the weekend street-racing cup", "zh-CN": "正在直播：周末街头赛车杯" },
  },
  {
    id: "strategy-opening-video",
    genre: "strategy",
    kind: "video",
    title: { en: "Five openings that win strategy matches", "zh-CN": "赢下策略对局的五种开局" },
  },
  {
    id: "strategy-season-event",
    genre: "strategy",
    kind: "event",
    title: { en: "New season: alliance wars start on Friday", "zh-CN": "新赛季：联盟战争周五开战" },
  },
  {
    id: "puzzle-daily-event",
    genre: "puzzle",
    kind: "event",
    title: { en: "Daily puzzle challenge: 3 stars in 20 moves", "zh-CN": "每日益智挑战：20步内拿三星" },
  },
  {
    id: "puzzle-relax-video",
    genre: "puzzle",
    kind: "video",
    title: { en: "Ten calm puzzle games for the evening", "zh-CN": "十款适合夜晚放松的益智游戏" },
  },
  {
    id: "rpg-build-guide",
    genre: "role-playing",
    kind: "guide",
    title: { en: "Role-playing builds: the best healer this patch", "zh-CN": "角色扮演配装：本版本最强治疗" },
  },
  {
    id: "rpg-story-live",
    genre: "role-playing",
    kind: "live",
    title: { en: "Live now: a first play-through of the new chapter", "zh-CN": "正在直播：新章节首次通关" },
  },
  {
    id: "shooter-aim-guide",
    genre: "shooter",
    kind: "guide",
    title: {
      en: "Mouse aim in mobile shooters: settings that work",
      "zh-CN": "手游射击的鼠标瞄准：好用的设置",
    },
  },
  {
    id: "shooter-squad-event",
    genre: "shooter",
    kind: "event",
    title: { en: "Squad tournament: sign-ups close Sunday", "zh-CN": "小队锦标赛：报名周日截止" },
  },
  {
    id: "music-latency-guide",
    genre: "music",
    kind: "guide",
    title: {
      en: "Rhythm games without lag: audio latency tips",
      "zh-CN": "无延迟玩节奏游戏：音频延迟调校技巧",
    },
  },
  {
    id: "music-new-songs-video",
    genre: "music",
    kind: "video",
    title: { en: "This week's new songs, played on hard", "zh-CN": "本周新曲，困难难度实录" },
  },
];

/** The editors' picks everyone sees when the feed is not personalised. */
export const GENERIC_ITEM_IDS = [
  "strategy-season-event",
  "puzzle-daily-event",
  "racing-cup-live",
  "music-latency-guide",
] as const;

export type CatalogueAd = {
  id: string;
  genre: Genre | null;
  title: Localized;
  body: Localized;
  advertiser: Localized;
};

/** The advert everyone may see: chosen from the page, not the person. */
export const GENERIC_AD: CatalogueAd = {
  id: "ad-gamepad",
  genre: null,
  title: { en: "A wireless gamepad for MuMuPlayer Pro", "zh-CN": "适配MuMu模拟器Pro的无线手柄" },
  body: {
    en: "Plug-and-play on Mac, with every button mapped. Free delivery this week.",
    "zh-CN": "Mac即插即用，按键全映射。本周包邮。",
  },
  advertiser: { en: "Example Accessories", "zh-CN": "示例配件" },
};

export const GENRE_ADS: Record<Genre, CatalogueAd> = {
  racing: {
    id: "ad-racing-wheel",
    genre: "racing",
    title: { en: "Racing wheel, 20% off", "zh-CN": "赛车方向盘八折" },
    body: {
      en: "Feel every corner of your favourite racing games.",
      "zh-CN": "在您喜爱的赛车游戏中感受每一个弯道。",
    },
    advertiser: { en: "Example Accessories", "zh-CN": "示例配件" },
  },
  strategy: {
    id: "ad-strategy-pack",
    genre: "strategy",
    title: { en: "Strategy starter pack", "zh-CN": "策略游戏新手礼包" },
    body: { en: "Three strategy titles in one bundle.", "zh-CN": "三款策略游戏合集。" },
    advertiser: { en: "Example Games", "zh-CN": "示例游戏" },
  },
  puzzle: {
    id: "ad-puzzle-book",
    genre: "puzzle",
    title: { en: "A puzzle a day", "zh-CN": "每天一道谜题" },
    body: { en: "New puzzle levels every morning.", "zh-CN": "每天早上更新益智关卡。" },
    advertiser: { en: "Example Games", "zh-CN": "示例游戏" },
  },
  "role-playing": {
    id: "ad-rpg-expansion",
    genre: "role-playing",
    title: { en: "The role-playing expansion is out", "zh-CN": "角色扮演资料片上线" },
    body: { en: "Forty hours of new story.", "zh-CN": "四十小时全新剧情。" },
    advertiser: { en: "Example Games", "zh-CN": "示例游戏" },
  },
  shooter: {
    id: "ad-gaming-mouse",
    genre: "shooter",
    title: { en: "A gaming mouse for shooters", "zh-CN": "射击游戏专用鼠标" },
    body: { en: "Low latency, adjustable sensitivity.", "zh-CN": "低延迟，灵敏度可调。" },
    advertiser: { en: "Example Accessories", "zh-CN": "示例配件" },
  },
  music: {
    id: "ad-headphones",
    genre: "music",
    title: { en: "Low-latency headphones", "zh-CN": "低延迟耳机" },
    body: { en: "Hit every beat on time.", "zh-CN": "每一拍都精准命中。" },
    advertiser: { en: "Example Audio", "zh-CN": "示例音频" },
  },
};

/** Made-up players "nearby" (a real backend would search by the location the app sent). */
export const NEARBY_PLAYERS: readonly { handle: string; distanceKm: number; genre: Genre }[] = [
  { handle: "RallyFox", distanceKm: 0.4, genre: "racing" },
  { handle: "QuietTiger", distanceKm: 1.2, genre: "strategy" },
  { handle: "PixelCrane", distanceKm: 2.7, genre: "puzzle" },
  { handle: "NightOwl88", distanceKm: 4.1, genre: "role-playing" },
];

/**
 * The simulated play history: two genres the player "plays most", derived from the subject id so
 * they are stable. A real backend would infer them from activity logs.
 */
export function favouriteGenres(subjectId: string): [Genre, Genre] {
  const digest = createHash("sha256").update(`sample-app:${subjectId}`).digest();
  const first = GENRES[(digest[0] ?? 0) % GENRES.length] as Genre;
  const rest = GENRES.filter((g) => g !== first);
  const second = rest[(digest[1] ?? 0) % rest.length] as Genre;
  return [first, second];
}
