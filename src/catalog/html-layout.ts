/** The shell of every catalog page: one self-contained HTML document with its styles inline (no CDN, no files beside it). */
import { html } from './escape.js';

const STYLE = `
:root { --fg: #1d2330; --muted: #5b6475; --line: #d9dee7; --bg: #ffffff; --panel: #f5f7fa; --accent: #1f5fbf; --ok: #1e7a3a; --risk: #a86400; --bad: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header.top { background: #17263d; color: #fff; padding: 14px 28px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
header.top a { color: #fff; text-decoration: none; font-weight: 600; }
header.top .meta { color: #c5d0e0; font-size: 13px; }
header.top form { margin-left: auto; }
main { padding: 20px 28px 48px; max-width: 1280px; }
h1 { font-size: 26px; margin: 4px 0 6px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 6px; }
a { color: var(--accent); }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; overflow-x: auto; white-space: pre-wrap; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid var(--line); }
th { background: var(--panel); font-weight: 600; font-size: 13px; color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 6px 0 12px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
nav.sections { display: flex; gap: 14px; flex-wrap: wrap; font-size: 14px; margin: 8px 0 4px; }
.lead { font-size: 17px; margin: 4px 0 12px; }
.muted { color: var(--muted); }
.banner { padding: 10px 14px; border-radius: 6px; margin: 12px 0; background: #eef4fc; border: 1px solid #c9dbf3; }
.banner.offline { background: #fff6e5; border-color: #f0d49b; }
.banner.problems { background: #fdeeee; border-color: #f1c0bd; }
.pill { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: var(--panel); border: 1px solid var(--line); white-space: nowrap; }
.pill.ok, .pill.succeeded { color: var(--ok); border-color: #a9d5b5; background: #eef8f1; }
.pill.at_risk, .pill.partial, .pill.incomplete, .pill.running { color: var(--risk); border-color: #ecc98a; background: #fff6e5; }
.pill.breached, .pill.failed, .pill.blocked, .pill.canceled { color: var(--bad); border-color: #efb3ae; background: #fdeeee; }
.pill.pii { color: var(--bad); }
.pill.public { color: var(--ok); }
input[type=search] { font: inherit; padding: 7px 10px; border: 1px solid var(--line); border-radius: 6px; width: 100%; max-width: 520px; }
header.top input[type=search] { width: 260px; padding: 4px 8px; }
.match { display: block; color: var(--muted); font-size: 12px; }
.graph { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; padding: 8px; background: #fbfcfe; }
svg.lineage-graph .node rect { fill: #fff; stroke: #8a96aa; stroke-width: 1.2; }
svg.lineage-graph .n-table rect { fill: #f1f4f8; }
svg.lineage-graph .n-product rect { fill: #e8f0fc; stroke: var(--accent); }
svg.lineage-graph .n-self rect { fill: #1f5fbf; stroke: #17489a; }
svg.lineage-graph .n-self text { fill: #fff; }
svg.lineage-graph .n-target rect { fill: #eef8f1; stroke: #4f9a66; }
svg.lineage-graph .label { font: 600 13px system-ui, sans-serif; fill: var(--fg); }
svg.lineage-graph .sublabel { font: 11px system-ui, sans-serif; fill: var(--muted); }
svg.lineage-graph .edge { fill: none; stroke: #8a96aa; stroke-width: 1.5; }
svg.lineage-graph .edge.secondary { stroke-dasharray: 5 4; }
svg.lineage-graph .arrow { fill: #8a96aa; }
svg.lineage-graph a:hover rect { stroke-width: 2.5; }
ul.plain { padding-left: 20px; margin: 6px 0; }
footer { color: var(--muted); font-size: 13px; margin-top: 40px; }
`;

export interface PageOptions {
  readonly title: string;
  /** the relative path to the catalog's root folder from this page (`''` or `'../'`) */
  readonly base: string;
  /** the header's second line: revision and time */
  readonly meta: string;
  readonly body: string;
  /** inline scripts (the index's search) and JSON blocks, already safe for a script element */
  readonly scripts?: string;
}

export function page(options: PageOptions): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(options.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top">
<a href="${options.base}index.html">Data product catalog</a>
<span class="meta">${html(options.meta)}</span>
${options.base ? `<form action="${options.base}index.html" method="get" role="search"><input type="search" name="q" placeholder="Search products, columns, metrics…" aria-label="Search the catalog"></form>` : ''}
</header>
<main>
${options.body}
</main>
${options.scripts ?? ''}
</body>
</html>
`;
}

/** A table from a header and rows of cells already HTML. */
export function tableHtml(header: readonly string[], rows: readonly (readonly string[])[], attributes = ''): string {
  const head = `<tr>${header.map((h) => `<th>${html(h)}</th>`).join('')}</tr>`;
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('\n');
  return `<table${attributes}>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** label/value facts (values escaped here) as a definition list. */
export function factsHtml(facts: readonly (readonly [string, string])[]): string {
  if (facts.length === 0) return '';
  return `<dl class="facts">${facts.map(([label, value]) => `<dt>${html(label)}</dt><dd>${html(value)}</dd>`).join('')}</dl>`;
}

export function pill(text: string, className: string): string {
  return `<span class="pill ${html(className)}">${html(text)}</span>`;
}

/** A doc comment as paragraphs (blank lines split them), `code` spans kept; everything escaped first. */
export function docsHtml(text: string): string {
  return text
    .split(/\n\s*\n/)
    .map((para) => para.trim())
    .filter(Boolean)
    .map((para) => `<p>${html(para).replace(/`([^`]+)`/g, '<code>$1</code>').replace(/\n/g, '<br>')}</p>`)
    .join('\n');
}
