import { type DocLinkResolver, downloadLink, isSafeHref } from "./links.ts";
import type { Block, DocModel, Inline, ListItem, Section, TableRow } from "./model.ts";

/** Escapes text so that Markdown renders it literally (no emphasis, links or raw HTML). */
export function escapeMarkdown(text: string, lineStart = false): string {
  const escaped = text
    .replace(/\s*\r?\n\s*/g, " ")
    .replace(/[\\`*_[\]<>|~]/g, (ch) => `\\${ch}`)
    .replace(/&(?=#?[a-zA-Z0-9]+;)/g, "\\&");
  // Block syntax (headings, list markers) only matters at the start of a line.
  return lineStart ? escaped.replace(/^([#+=-])/, "\\$1").replace(/^(\d+)([.)])/, "$1\\$2") : escaped;
}

const PUNCT = /[\p{P}\p{S}]/u;
const boundary = (ch: string) => ch === "" || /\s/.test(ch) || PUNCT.test(ch);

/**
 * Bold text between the characters `before` and `after`. `**` cannot open before punctuation or
 * close after it when a letter sits on the other side (common in Chinese: "。**后"), so such runs
 * use inline HTML, which every Markdown renderer accepts.
 */
function bold(md: string, before: string, after: string): string {
  const m = /^(\s*)([\s\S]*?)(\s*)$/.exec(md);
  const [lead, core, trail] = m ? [m[1] ?? "", m[2] ?? "", m[3] ?? ""] : ["", md, ""];
  if (core === "") return md;
  const opens = !PUNCT.test(core[0] ?? "") || boundary(lead ? " " : before);
  const closes = !PUNCT.test(core[core.length - 1] ?? "") || boundary(trail ? " " : after);
  return opens && closes ? `${lead}**${core}**${trail}` : `${lead}<strong>${core}</strong>${trail}`;
}

const escapeUrl = (url: string) => url.replace(/[()<>\s]/g, (ch) => encodeURIComponent(ch));

type Opts = { resolve: DocLinkResolver; doc: DocModel };

function inline(runs: Inline[], o: Opts, inBold: boolean, lineStart = false): string {
  const pieces = runs.map((r, i) => {
    const start = lineStart && i === 0;
    if (typeof r === "string") return { md: escapeMarkdown(r, start), bold: false };
    let md = escapeMarkdown(r.text, start && !r.doc && !r.href && !r.strong);
    const href = r.doc ? o.resolve(r.doc, o.doc.lang) : r.href && isSafeHref(r.href) ? r.href : undefined;
    if (href) md = `[${md}](${escapeUrl(href)})`;
    return { md, bold: Boolean(r.strong) && !inBold };
  });
  return pieces
    .map((piece, i) => {
      if (!piece.bold) return piece.md;
      const before = pieces[i - 1]?.md.slice(-1) ?? "";
      const after = pieces[i + 1]?.md.slice(0, 1) ?? "";
      return bold(piece.md, before, after);
    })
    .join("");
}

const marker = (o: Opts) => `**\\[⚠ ${escapeMarkdown(o.doc.sensitiveMarker)}\\]**`;

function highlighted(text: string, o: Opts): string {
  return `${marker(o)} **${text}**`;
}

function listItems(items: ListItem[], ordered: boolean, indent: string, o: Opts): string[] {
  const lines: string[] = [];
  items.forEach((item, i) => {
    const bullet = ordered ? `${i + 1}. ` : "- ";
    const body = item.highlight ? highlighted(inline(item.text, o, true), o) : inline(item.text, o, false);
    lines.push(`${indent}${bullet}${body}`);
    if (item.children) lines.push(...listItems(item.children, false, indent + " ".repeat(bullet.length), o));
  });
  return lines;
}

const cell = (text: string) => escapeMarkdown(text);

function tableRow(r: TableRow, o: Opts): string {
  const cells = r.cells.map((c, i) => {
    if (!r.highlight) return cell(c);
    return i === 0 ? highlighted(cell(c), o) : `**${cell(c)}**`;
  });
  return `| ${cells.join(" | ")} |`;
}

function block(b: Block, o: Opts): string {
  switch (b.kind) {
    case "paragraph":
      return b.highlight ? highlighted(inline(b.text, o, true), o) : inline(b.text, o, false, true);
    case "list":
      return listItems(b.items, b.ordered ?? false, "", o).join("\n");
    case "table": {
      const lines: string[] = [];
      if (b.caption) lines.push(`*${escapeMarkdown(b.caption)}*`, "");
      lines.push(`| ${b.headers.map(cell).join(" | ")} |`, `|${b.headers.map(() => " --- |").join("")}`);
      for (const r of b.rows) lines.push(tableRow(r, o));
      return lines.join("\n");
    }
  }
}

function section(s: Section, level: number, o: Opts): string[] {
  const hashes = "#".repeat(Math.min(level, 6));
  const heading = s.highlight ? `${escapeMarkdown(s.heading)} ${marker(o)}` : escapeMarkdown(s.heading);
  const out = [`<a id="${s.id}"></a>`, "", `${hashes} ${heading}`];
  for (const b of s.blocks) out.push("", block(b, o));
  for (const sub of s.subsections) out.push("", ...section(sub, level + 1, o));
  return out;
}

/** The document as CommonMark/GFM Markdown. */
export function toMarkdown(doc: DocModel, resolve: DocLinkResolver = downloadLink("md")): string {
  const o: Opts = { resolve, doc };
  const l = doc.labels;
  const out: string[] = [
    `# ${escapeMarkdown(doc.title)}`,
    "",
    `**${escapeMarkdown(l.version)}${l.colon.trim()}** ${escapeMarkdown(doc.version)}  `,
    `**${escapeMarkdown(l.lastUpdated)}${l.colon.trim()}** ${doc.lastUpdated}  `,
    `**${escapeMarkdown(l.effectiveDate)}${l.colon.trim()}** ${doc.effectiveDate}`,
  ];
  for (const b of doc.intro) out.push("", block(b, o));
  out.push("", `## ${escapeMarkdown(l.contents)}`, "");
  for (const s of doc.sections) out.push(`- [${escapeMarkdown(s.heading)}](#${s.id})`);
  for (const s of doc.sections) out.push("", ...section(s, 2, o));
  return `${out.join("\n")}\n`;
}
