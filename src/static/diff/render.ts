/** The contract diff for people: plain text for a terminal, Markdown for a pull-request comment. */
import type { Change, ChangeClass, ContractDiff, ProductDiff } from './types.js';

const LABEL: Readonly<Record<ChangeClass, string>> = { breaking: 'breaking', 'needs-review': 'needs review', 'non-breaking': 'non-breaking' };
const ICON: Readonly<Record<ChangeClass, string>> = { breaking: '🔴', 'needs-review': '🟡', 'non-breaking': '🟢' };

function revisionName(revision: string): string {
  return revision === 'worktree' ? 'the work tree' : revision.slice(0, 12);
}

function versionText(p: ProductDiff): string {
  const { from, to, bump } = p.version;
  if (from && to) return from === to ? `version ${to} (unchanged)` : `version ${from} → ${to} (${bump})`;
  return `version ${to ?? from}`;
}

function summaryLine(diff: ContractDiff): string {
  const changed = diff.products.filter((p) => p.status !== 'unchanged');
  if (changed.length === 0) return `no contract changes between ${revisionName(diff.from)} and ${revisionName(diff.to)} (${diff.products.length} products)`;
  const { breaking, needsReview, nonBreaking, refused } = diff.summary;
  return (
    `${changed.length} of ${diff.products.length} products changed: ${breaking} breaking, ${needsReview} needing review, ${nonBreaking} non-breaking` +
    (refused > 0 ? `; ${refused} refused (see the fix under each)` : '')
  );
}

export function diffText(diff: ContractDiff): string {
  const lines = [`contract diff ${revisionName(diff.from)} → ${revisionName(diff.to)}`];
  for (const p of diff.products) {
    if (p.status === 'unchanged') continue;
    lines.push('', `${p.product} (${p.file}): ${p.status}, ${p.verdict ? LABEL[p.verdict] : p.status === 'invalid' ? 'cannot be judged' : 'no change'}, ${versionText(p)}${p.accepted ? '' : ' — REFUSED'}`);
    for (const change of sorted(p.changes)) lines.push(`  ${LABEL[change.class].padEnd(12)}  ${change.subject}: ${change.message}`);
    if (p.refusal) lines.push(`  fix: ${p.refusal}`);
  }
  lines.push('', summaryLine(diff));
  return lines.join('\n');
}

export function diffMarkdown(diff: ContractDiff): string {
  const lines = [`### lastmile contract diff: \`${revisionName(diff.from)}\` → \`${revisionName(diff.to)}\``, '', summaryLine(diff)];
  const changed = diff.products.filter((p) => p.status !== 'unchanged');
  if (changed.length > 0) {
    lines.push('', '| product | status | verdict | version | gate |', '| --- | --- | --- | --- | --- |');
    for (const p of changed) {
      lines.push(`| \`${p.product}\` | ${p.status} | ${p.verdict ? `${ICON[p.verdict]} ${LABEL[p.verdict]}` : '—'} | ${escape(versionText(p))} | ${p.accepted ? 'passes' : '**refused**'} |`);
    }
  }
  for (const p of changed) {
    lines.push('', `<details${p.accepted ? '' : ' open'}><summary><code>${p.product}</code>: ${p.changes.length} change${p.changes.length === 1 ? '' : 's'}</summary>`, '');
    for (const change of sorted(p.changes)) lines.push(`- ${ICON[change.class]} **${LABEL[change.class]}** — ${escape(change.subject)}: ${escape(change.message)}`);
    if (p.refusal) lines.push('', `> **Refused:** ${escape(p.refusal)}`);
    lines.push('', '</details>');
  }
  return lines.join('\n');
}

function sorted(changes: readonly Change[]): Change[] {
  const order: ChangeClass[] = ['breaking', 'needs-review', 'non-breaking'];
  return [...changes].sort((a, b) => order.indexOf(a.class) - order.indexOf(b.class));
}

/** Markdown table cells and list items: pipes and angle brackets written as text. */
function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
