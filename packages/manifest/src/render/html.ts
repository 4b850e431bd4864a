import { type DocLinkResolver, downloadLink, isSafeHref, webLink } from "./links.ts";
import type { Block, DocModel, Inline, ListItem, Section, TableRow } from "./model.ts";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

type Opts = { resolve: DocLinkResolver; doc: DocModel };

function inline(runs: Inline[], o: Opts): string {
  return runs
    .map((r) => {
      if (typeof r === "string") return escapeHtml(r);
      let out = escapeHtml(r.text);
      const href = r.doc ? o.resolve(r.doc, o.doc.lang) : r.href && isSafeHref(r.href) ? r.href : undefined;
      if (href) {
        const external = /^https?:/i.test(href) ? ' rel="noopener noreferrer"' : "";
        out = `<a href="${escapeHtml(href)}"${external}>${out}</a>`;
      }
      return r.strong ? `<strong>${out}</strong>` : out;
    })
    .join("");
}

const marker = (o: Opts) => `<span class="sensitive-marker">⚠ ${escapeHtml(o.doc.sensitiveMarker)}</span>`;

function listItems(items: ListItem[], ordered: boolean, o: Opts): string {
  const tag = ordered ? "ol" : "ul";
  const lis = items.map((item) => {
    const body = item.highlight
      ? `<strong>${marker(o)} ${inline(item.text, o)}</strong>`
      : inline(item.text, o);
    const children = item.children ? listItems(item.children, false, o) : "";
    return `<li${item.highlight ? ' class="sensitive"' : ""}>${body}${children}</li>`;
  });
  return `<${tag}>${lis.join("")}</${tag}>`;
}

function tableRow(r: TableRow, o: Opts): string {
  const cells = r.cells.map((c, i) => {
    const text = escapeHtml(c);
    if (!r.highlight) return i === 0 ? `<th scope="row">${text}</th>` : `<td>${text}</td>`;
    const body = i === 0 ? `<strong>${marker(o)} ${text}</strong>` : `<strong>${text}</strong>`;
    return i === 0 ? `<th scope="row">${body}</th>` : `<td>${body}</td>`;
  });
  return `<tr${r.highlight ? ' class="sensitive"' : ""}>${cells.join("")}</tr>`;
}

function block(b: Block, o: Opts): string {
  switch (b.kind) {
    case "paragraph":
      return b.highlight
        ? `<p class="sensitive"><strong>${marker(o)} ${inline(b.text, o)}</strong></p>`
        : `<p>${inline(b.text, o)}</p>`;
    case "list":
      return listItems(b.items, b.ordered ?? false, o);
    case "table": {
      const caption = b.caption ? `<caption>${escapeHtml(b.caption)}</caption>` : "";
      const head = `<thead><tr>${b.headers.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join("")}</tr></thead>`;
      return `<table>${caption}${head}<tbody>${b.rows.map((r) => tableRow(r, o)).join("")}</tbody></table>`;
    }
  }
}

function section(s: Section, level: number, o: Opts): string {
  const h = `h${Math.min(level, 6)}`;
  const heading = s.highlight ? `${escapeHtml(s.heading)} ${marker(o)}` : escapeHtml(s.heading);
  const parts = [`<${h}>${heading}</${h}>`, ...s.blocks.map((b) => block(b, o))];
  for (const sub of s.subsections) parts.push(section(sub, level + 1, o));
  const cls = s.highlight ? ' class="sensitive"' : "";
  return `<section id="${escapeHtml(s.id)}"${cls}>\n${parts.join("\n")}\n</section>`;
}

function body(doc: DocModel, o: Opts, withTitle: boolean): string {
  const l = doc.labels;
  const meta = [
    `<span>${escapeHtml(l.version + l.colon)}<strong class="doc-version">${escapeHtml(doc.version)}</strong></span>`,
    `<span>${escapeHtml(l.lastUpdated + l.colon)}<time datetime="${escapeHtml(doc.lastUpdated)}">${escapeHtml(doc.lastUpdated)}</time></span>`,
    `<span>${escapeHtml(l.effectiveDate + l.colon)}<time datetime="${escapeHtml(doc.effectiveDate)}">${escapeHtml(doc.effectiveDate)}</time></span>`,
  ].join(" · ");
  const toc = doc.sections
    .map((s) => `<li><a href="#${escapeHtml(s.id)}">${escapeHtml(s.heading)}</a></li>`)
    .join("");
  return [
    withTitle
      ? `<header>\n<h1>${escapeHtml(doc.title)}</h1>\n<p class="doc-meta">${meta}</p>\n</header>`
      : `<p class="doc-meta">${meta}</p>`,
    ...doc.intro.map((b) => block(b, o)),
    `<nav class="toc" aria-label="${escapeHtml(l.contents)}"><h2>${escapeHtml(l.contents)}</h2><ol>${toc}</ol></nav>`,
    ...doc.sections.map((s) => section(s, 2, o)),
  ].join("\n");
}

/**
 * The document body for embedding in the web app: no title (the page shows it as its h1), the
 * version and dates, then the sections from h2 down. Links point at web app routes.
 */
export function toHtmlFragment(doc: DocModel, resolve: DocLinkResolver = webLink): string {
  const o: Opts = { resolve, doc };
  return `<article class="custos-doc" lang="${escapeHtml(doc.lang)}" data-doc="${escapeHtml(doc.id)}">\n${body(doc, o, false)}\n</article>\n`;
}

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: #1a1a1a; font: 16px/1.6 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; }
main { max-width: 52rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
h1 { font-size: 1.9rem; line-height: 1.25; margin: 0 0 .5rem; }
h2 { font-size: 1.4rem; margin: 2.2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 1px solid #ccc; }
h3 { font-size: 1.15rem; margin: 1.6rem 0 .4rem; }
h4, h5, h6 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
a { color: #0645ad; }
a:focus-visible { outline: 3px solid #1a73e8; outline-offset: 2px; }
.doc-meta { color: #444; margin: 0 0 1.5rem; }
.toc ol { padding-left: 1.4rem; }
table { border-collapse: collapse; width: 100%; margin: .8rem 0 1.2rem; font-size: .95rem; }
th, td { border: 1px solid #bbb; padding: .4rem .55rem; text-align: left; vertical-align: top; }
thead th { background: #f0f0f0; }
tbody th { font-weight: 600; width: 28%; }
.sensitive { background: #fff4d6; }
p.sensitive, li.sensitive { border-left: 4px solid #b35c00; padding-left: .5rem; }
.sensitive-marker { display: inline-block; font-weight: 700; color: #7a3d00; border: 1px solid #b35c00; border-radius: 3px; padding: 0 .3rem; margin-right: .2rem; font-size: .85em; background: #fff; }
section.sensitive { background: none; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  .toc { break-after: page; }
  h2, h3 { break-after: avoid; }
  tr, li { break-inside: avoid; }
  .sensitive { background: none; }
  .sensitive-marker { border-color: #000; color: #000; }
  a[href^="http"]::after { content: " (" attr(href) ")"; font-size: .85em; }
}
`.trim();

/** A complete standalone HTML page (for downloads and printing). */
export function toHtmlPage(doc: DocModel, resolve: DocLinkResolver = downloadLink("html")): string {
  const o: Opts = { resolve, doc };
  const title = `${doc.title} (${doc.labels.version} ${doc.version})`;
  return `<!doctype html>
<html lang="${escapeHtml(doc.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${escapeHtml(title)}</title>
<style>
${CSS}
</style>
</head>
<body>
<main class="custos-doc" data-doc="${escapeHtml(doc.id)}">
${body(doc, o, true)}
</main>
</body>
</html>
`;
}
