/** The catalog as one Markdown file, `catalog.md`: the index table, then a section per product (same facts as its page). */
import { sloObjective, sloThreshold, declaredSlos } from '../slo/index.js';
import { percent } from '../slo/format.js';
import { KIND_LABELS, checkText, scheduleText, sourceText, targetDetails } from './describe.js';
import { markdown as md, markdownCode as code } from './escape.js';
import type { CatalogModel, CatalogProduct } from './model.js';
import { SLO_HEADER, budgetText, latestRunText, runDetails, sloRow, stateText, storeText, utcText } from './status-text.js';

export function catalogMarkdown(model: CatalogModel): string {
  const lines: string[] = [
    '# Data product catalog',
    '',
    `${model.products.length} products, read from ${md(model.revision)} at ${utcText(model.generatedAt)}. ${md(storeText(model))}`,
    '',
  ];
  if (model.problems.length > 0) {
    lines.push(`Left out (invalid modules; lastmile validate shows every problem): ${md([...new Set(model.problems.map((p) => p.file ?? 'project'))].join(', '))}`, '');
  }
  lines.push(
    table(
      ['product', 'domain', 'owner', 'description', 'targets', 'latest run', 'SLOs'],
      model.products.map((e) => [
        `[${md(e.name)}](#${slug(e.name)})`,
        md(e.product.domain),
        md(e.product.owner.team),
        md(e.product.description),
        md(e.product.serve.map((t) => `${t.name} (${KIND_LABELS[t.kind]})`).join(', ')),
        md(latestRunText(e, model.store.env)),
        md(`${stateText(e.slo.state)}${e.slo.budgetRemaining !== null ? `, budget ${budgetText(e.slo.budgetRemaining)}` : ''}`),
      ]),
    ),
    '',
  );
  if (model.edges.length > 0) {
    lines.push('## Products that read other products', '');
    for (const e of model.edges) lines.push(`- [${md(e.to)}](#${slug(e.to)}) reads ${code(e.relation)}, served by [${md(e.from)}](#${slug(e.from)}) (${md(e.fromTarget)})`);
    lines.push('');
  }
  for (const entry of model.products) lines.push(...productSection(model, entry));
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

function productSection(model: CatalogModel, entry: CatalogProduct): string[] {
  const p = entry.product;
  const out: string[] = [
    `## ${md(p.name)}`,
    '',
    md(p.description),
    '',
    `- version ${md(p.version)}, ${md(p.audience)}, domain ${md(p.domain)}`,
    `- owner ${md(p.owner.team)} (${md(p.owner.email)})`,
    `- module ${code(`${entry.read.file}:${entry.read.position.line}`)} (${entry.read.how === 'static' ? 'read without running it' : `loaded: ${entry.read.computed.map((c) => c.path).join(', ')} computed`})`,
    `- latest run in ${md(model.store.env)}: ${md(latestRunText(entry, model.store.env))}`,
    '',
    '### Users',
    '',
    ...p.users.map((u) => `- ${md(u.who)}: ${md(u.action)}`),
    '',
  ];
  if (entry.read.docs) out.push('### Docs', '', ...entry.read.docs.split(/\n\s*\n/).map((para) => md(para.trim())).flatMap((para) => [para, '']));
  out.push(
    '### Contract',
    '',
    `Key: ${p.contract.key.map((k) => code(k)).join(', ') || 'none'}`,
    '',
    table(['column', 'type', 'nulls', 'classification', 'description'], p.contract.columns.map((c) => [code(c.name), code(c.type), c.nullable ? 'nullable' : 'not null', c.classification, md(c.description ?? '')])),
    '',
  );
  const metrics = Object.entries(p.metrics);
  if (metrics.length > 0) out.push('### Metrics', '', table(['metric', 'sql', 'by', 'description'], metrics.map(([name, m]) => [code(name), code(m.sql), md(m.by?.join(', ') ?? 'any column'), md(m.description ?? '')])), '');
  if (p.checks.length > 0) out.push('### Checks', '', table(['check', 'severity', 'holds'], p.checks.map((c) => [code(c.name), c.severity, md(checkText(c))])), '');
  if (p.slo) {
    out.push('### SLOs', '');
    const statuses = entry.status?.slos ?? [];
    if (statuses.length > 0) out.push(table(SLO_HEADER, statuses.map((s) => sloRow(s).map(md))));
    else out.push(table(['SLO', 'objective', 'threshold', 'window'], declaredSlos(p).map((slo) => [slo, percent(sloObjective(p.slo!, slo)), md(sloThreshold(p.slo!, slo) ?? '-'), md(p.slo!.window)])));
    out.push('');
  }
  if (entry.status?.latestRun) out.push('### Latest run', '', ...runDetails(entry.status.latestRun).map(([label, value]) => `- ${label}: ${md(value)}`), '');
  out.push('### Targets', '');
  for (const t of p.serve) {
    out.push(`- **${md(t.name)}** (${KIND_LABELS[t.kind]}), ${md(scheduleText(t))}`);
    for (const [label, value] of targetDetails(t)) out.push(`  - ${md(label)}: ${md(value)}`);
  }
  out.push('', '### Lineage', '');
  const l = entry.lineage;
  out.push(`- reads: ${[...l.sources, ...l.alsoReads].map((r) => `${code(r.relation)}${r.via !== 'source' ? ` (${md(r.via)})` : ''}${r.servedBy ? ` from [${md(r.servedBy.product)}](#${slug(r.servedBy.product)})` : ''}`).join(', ') || 'nothing'}`);
  out.push(`- serves: ${p.serve.map((t) => md(t.name)).join(', ') || 'nothing'}${l.serves.length > 0 ? ` — relations ${l.serves.map((s) => code(s.relation)).join(', ')}` : ''}`);
  out.push(`- read by: ${l.downstream.map((d) => `[${md(d.to)}](#${slug(d.to)}) (${code(d.relation)})`).join(', ') || 'no product'}`);
  out.push('', '### Source', '', fence(sourceText(p.source)), '');
  return out;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** A fenced SQL block longer than any backtick run inside. */
function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const marks = '`'.repeat(longest + 1);
  return `${marks}sql\n${text}\n${marks}`;
}

/** GitHub's heading anchor of a product name (snake_case names keep their letters, digits and underscores). */
function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_ -]/g, '').replace(/ /g, '-');
}
