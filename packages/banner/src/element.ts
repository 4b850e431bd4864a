/**
 * The browser side of the consent banner: the `<custos-consent-banner>` web component and the tag
 * blocker. Bundled by build.ts into one small ES2020 script (no dependencies).
 *
 * Page scripts are written as `<script type="text/plain" data-custos-category="analytics" …>` and so
 * never run by themselves; this script turns them into real scripts once their category is allowed.
 * With `navigator.globalPrivacyControl === true` analytics and advertising stay off whatever is
 * stored or clicked (CON-11); nothing non-necessary is on before an affirmative choice (CON-2).
 */
import {
  type Choices,
  EVERYTHING,
  effectiveChoices,
  languageOf,
  NOTHING,
  parseStored,
  type Stored,
  scriptsToActivate,
  withGpc,
} from "./state.ts";
import type { BannerConfig } from "./strings.ts";

const TAG = "custos-consent-banner";
const KEY = "custos-consent";
const own = document.currentScript as HTMLScriptElement | null;
const apiBase = own?.src ? new URL(own.src, location.href).origin : location.origin;
const gpc = (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl === true;

let choices: Choices = { ...NOTHING };
const activated = new WeakSet<Element>();
let memory: string | null = null;

function readStored(): Stored | null {
  try {
    return parseStored(localStorage.getItem(KEY));
  } catch {
    return parseStored(memory);
  }
}

function writeStored(s: Stored): void {
  memory = JSON.stringify(s);
  try {
    localStorage.setItem(KEY, memory);
  } catch {}
}

function uuid(): string {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 15) | 64;
  b[8] = ((b[8] ?? 0) & 63) | 128;
  const x = [...b].map((n) => n.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Turns allowed, not yet activated tagged scripts into real ones (in document order). */
function activate(): void {
  const tags = [
    ...document.querySelectorAll<HTMLScriptElement>('script[type="text/plain"][data-custos-category]'),
  ];
  const list = tags.map((t) => ({ category: t.dataset.custosCategory ?? "", done: activated.has(t) }));
  for (const i of scriptsToActivate(list, choices)) {
    const old = tags[i] as HTMLScriptElement;
    activated.add(old);
    const s = document.createElement("script");
    for (const a of old.attributes) if (a.name !== "type") s.setAttribute(a.name, a.value);
    if (old.dataset.custosType) s.type = old.dataset.custosType;
    s.nonce = old.nonce ?? "";
    s.async = false;
    s.text = old.text;
    old.replaceWith(s);
  }
}

function apply(next: Choices): void {
  choices = { ...next };
  activate();
  document.dispatchEvent(new CustomEvent("custos:consent", { detail: { ...choices, gpc } }));
}

type Props = Record<string, string | boolean | ((e: Event) => void)>;
function h(tag: string, props: Props = {}, ...kids: (Node | string | false | undefined)[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (typeof v === "function") el.addEventListener(k, v);
    else if (v === true) el.setAttribute(k, "");
    else if (v !== false) el.setAttribute(k, v);
  }
  for (const kid of kids) if (kid) el.append(kid);
  return el;
}

type Action = "accept-all" | "reject-all" | "save" | "gpc";

const CSS = `:host{all:initial}
.b{position:fixed;z-index:2147483647;left:1rem;right:1rem;bottom:1rem;max-width:40rem;margin:auto;max-height:calc(100vh - 2rem);overflow:auto;box-sizing:border-box;background:#fff;color:#1a1a1a;font:15px/1.5 system-ui,sans-serif;border:1px solid #555;border-radius:8px;padding:1rem 1.25rem;box-shadow:0 4px 24px #0005}
h2{font-size:1.15rem;margin:0 0 .5rem}p{margin:0 0 .75rem}a{color:#0b57d0}
.g{background:#e8f0fe;padding:.5rem;border-radius:4px}
fieldset{border:0;padding:0;margin:0 0 .75rem}legend{font-weight:600;margin-bottom:.25rem;padding:0}
.c{border-top:1px solid #ccc;padding:.5rem 0}.c p{margin:.25rem 0 0 1.7rem;font-size:.9em;color:#444}
label{display:flex;gap:.5rem;align-items:center;font-weight:600}input{width:1.2rem;height:1.2rem;margin:0;accent-color:#0b57d0}
.o{font-weight:400;font-size:.85em;color:#444}
.a{display:flex;flex-wrap:wrap;gap:.5rem}
button{font:inherit;cursor:pointer;border:2px solid #0b57d0;border-radius:6px;padding:.45rem 1rem;background:#0b57d0;color:#fff}
button.s{background:#fff;color:#0b57d0}
.r{position:fixed;z-index:2147483647;left:1rem;bottom:1rem;font:13px/1.4 system-ui,sans-serif;padding:.25rem .75rem;background:#fff;color:#0b57d0}
:focus-visible,.b:focus{outline:3px solid #b34700;outline-offset:2px}`;

export class ConsentBanner extends HTMLElement {
  private root = this.attachShadow({ mode: "open" });
  private cfg: BannerConfig | undefined;
  private stored: Stored | null = null;
  private decided = false;
  private started = false;
  private returnTo: Element | null = null;
  /** The GPC signal: navigator.globalPrivacyControl, or Sec-GPC as the server saw it. */
  private signal = gpc;

  connectedCallback(): void {
    if (this.started) return;
    this.started = true;
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    this.root.adoptedStyleSheets = [sheet];
    const lang = languageOf(this.getAttribute("lang"), document.documentElement.lang);
    const api = this.getAttribute("api") ?? apiBase;
    fetch(`${api}/api/v1/banner/config?lang=${lang}`, { credentials: "omit" })
      .then((r) => (r.ok ? (r.json() as Promise<BannerConfig>) : Promise.reject(new Error(`${r.status}`))))
      .then((cfg) => this.init(cfg, api))
      .catch(() => undefined); // No config: nothing is activated, which is the safe side.
  }

  private api = "";

  private init(cfg: BannerConfig, api: string): void {
    this.cfg = cfg;
    this.api = api;
    this.signal = gpc || cfg.gpc;
    this.stored = readStored();
    const now = effectiveChoices(this.stored, cfg.noticeVersion, this.signal);
    this.decided = now.decided;
    apply(now.choices);
    if (this.signal && !this.decided) this.record(NOTHING, "gpc");
    this.show(now.decided ? "closed" : "main", !now.decided && !this.signal);
  }

  /** Opens the banner (the page may call `window.custosConsent.open()`). */
  open(): void {
    // Focus inside the banner (the re-open button) shows as the host; it gets a new re-open button.
    this.returnTo = document.activeElement === this ? null : document.activeElement;
    this.show("main", true);
  }

  private record(c: Choices, action: Action): void {
    const cfg = this.cfg as BannerConfig;
    const next = withGpc(c, this.signal);
    this.stored = { id: this.stored?.id ?? uuid(), v: cfg.noticeVersion, c: next, t: Date.now() };
    writeStored(this.stored);
    this.decided = true;
    apply(next);
    fetch(`${this.api}/api/v1/banner/choices`, {
      method: "POST",
      credentials: "omit",
      keepalive: true,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        consentId: this.stored.id,
        choices: next,
        gpc: this.signal,
        language: cfg.language,
        noticeVersion: cfg.noticeVersion,
        action,
      }),
    }).catch(() => undefined);
  }

  private done(c: Choices, action: Action): void {
    this.record(c, action);
    this.show("closed", true);
  }

  private show(view: "closed" | "main" | "choose", focus: boolean): void {
    const cfg = this.cfg as BannerConfig;
    const t = cfg.text;
    const signal = this.signal;
    if (view === "closed") {
      const reopen = h(
        "button",
        { class: "r s", "aria-haspopup": "dialog", click: () => this.open() },
        t.reopen,
      );
      this.root.replaceChildren(reopen);
      if (focus) {
        const back = this.returnTo;
        this.returnTo = null;
        (back instanceof HTMLElement && back.isConnected && back !== document.body ? back : reopen).focus();
      }
      return;
    }
    const switches: Record<string, HTMLInputElement> = {};
    const cats =
      view === "choose" &&
      h(
        "fieldset",
        {},
        h("legend", {}, t.preferences),
        ...cfg.categories.map((c) => {
          const on = c.necessary || (!signal && choices[c.id as keyof Choices] === true);
          const input = h("input", {
            type: "checkbox",
            role: "switch",
            id: `s-${c.id}`,
            "aria-describedby": `d-${c.id}`,
            checked: on,
            disabled: c.necessary || signal,
          }) as HTMLInputElement;
          switches[c.id] = input;
          return h(
            "div",
            { class: "c" },
            h(
              "label",
              { for: `s-${c.id}` },
              input,
              c.name,
              c.necessary && h("span", { class: "o" }, `(${t.alwaysOn})`),
            ),
            h("p", { id: `d-${c.id}` }, c.description),
          );
        }),
      );
    const picked = (): Choices => ({
      analytics: switches.analytics?.checked === true,
      advertising: switches.advertising?.checked === true,
    });
    const btn = (label: string, click: () => void, cls = "") =>
      h("button", { type: "button", class: cls, click }, label);
    const actions = signal
      ? [
          view === "choose"
            ? btn(t.save, () => this.done(NOTHING, "save"))
            : btn(t.choose, () => this.show("choose", true), "s"),
          btn(t.close, () => this.done(NOTHING, "gpc"), "s"),
        ]
      : [
          btn(t.acceptAll, () => this.done(EVERYTHING, "accept-all")),
          btn(t.rejectAll, () => this.done(NOTHING, "reject-all")),
          view === "choose"
            ? btn(t.save, () => this.done(picked(), "save"), "s")
            : btn(t.choose, () => this.show("choose", true), "s"),
        ];
    const box = h(
      "div",
      {
        class: "b",
        role: "dialog",
        "aria-modal": "false",
        "aria-labelledby": "t",
        "aria-describedby": "d",
        tabindex: "-1",
        keydown: (e) => {
          if ((e as KeyboardEvent).key !== "Escape") return;
          if (view === "choose") this.show("main", true);
          else if (this.decided) this.show("closed", true);
        },
      },
      h("h2", { id: "t" }, t.title),
      h("p", { id: "d" }, t.intro, " ", h("a", { href: cfg.policyUrl }, t.policyLink)),
      signal && h("p", { class: "g", role: "status" }, t.gpcHonoured),
      cats,
      h("div", { class: "a" }, ...actions),
    );
    this.root.replaceChildren(box);
    if (focus) {
      const first = view === "choose" ? Object.values(switches).find((s) => !s.disabled) : undefined;
      (first ?? box).focus({ preventScroll: true });
    }
  }
}

function boot(): void {
  if (!customElements.get(TAG)) customElements.define(TAG, ConsentBanner);
  if (!document.querySelector(TAG)) document.body.append(document.createElement(TAG));
  new MutationObserver(activate).observe(document.documentElement, { childList: true, subtree: true });
}

(window as Window & { custosConsent?: object }).custosConsent = {
  choices: () => ({ ...choices }),
  gpc,
  open: () => (document.querySelector(TAG) as ConsentBanner | null)?.open(),
};
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
