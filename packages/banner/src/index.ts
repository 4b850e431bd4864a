export { BANNER_ENTRY, BANNER_GZIP_BUDGET, type BuiltBanner, buildBanner, getBanner } from "./build.ts";
export * from "./state.ts";
export { BANNER_TEXT, type BannerConfig, type BannerText } from "./strings.ts";
