/** A deployment plan for people: a terminal listing, or Markdown for a pull-request comment. */
import type { DeployPlan, PlannedProduct } from './plan.js';

const CLASS_LABEL = { breaking: 'breaking', 'needs-review': 'needs review', 'non-breaking': 'non-breaking' } as const;

function versionText(p: PlannedProduct): string {
  const { from, to } = p.version;
  if (from && to) return from === to ? to : `${from} → ${to}`;
  return to ?? from ?? '';
}

function summaryLine(plan: DeployPlan): string {
  const s = plan.summary;
  const moves = s.new + s.changed + s.removed;
  if (moves === 0) return `nothing to deploy to ${plan.env}: all ${s.unchanged} products run as planned`;
  return `${plan.env}: ${s.new} new, ${s.changed} changed, ${s.removed} removed, ${s.unchanged} unchanged${s.refused > 0 ? `; ${s.refused} refused by the contract gate` : ''} (plan ${plan.hash})`;
}

function detailLines(p: PlannedProduct): string[] {
  const lines: string[] = [];
  for (const reason of p.reasons) lines.push(`why: ${reason.message}`);
  const { added, changed, removed } = p.targets;
  if (added.length) lines.push(`targets added: ${added.join(', ')}`);
  if (changed.length) lines.push(`targets changed: ${changed.join(', ')}`);
  if (removed.length) lines.push(`targets removed: ${removed.join(', ')}`);
  for (const s of p.schedules) lines.push(`schedule ${s.target}: ${s.from ?? 'none'} → ${s.to ?? 'none'}`);
  for (const change of p.contract?.changes ?? []) lines.push(`${CLASS_LABEL[change.class]}: ${change.subject}: ${change.message}`);
  if (p.contract && !p.contract.accepted) lines.push(`REFUSED: ${p.contract.refusal ?? 'the version does not allow this change'}`);
  return lines;
}

export function planText(plan: DeployPlan): string {
  const lines = [`plan for ${plan.env}${plan.gitSha ? ` at ${plan.gitSha}` : ''}`];
  for (const p of plan.products) {
    if (p.status === 'unchanged') continue;
    lines.push('', `${p.status.padEnd(8)} ${p.product} ${versionText(p)}${p.contract?.verdict ? ` (${CLASS_LABEL[p.contract.verdict]})` : ''}`);
    for (const line of detailLines(p)) lines.push(`  ${line}`);
  }
  lines.push('', summaryLine(plan));
  return lines.join('\n');
}

export function planMarkdown(plan: DeployPlan): string {
  const lines = [`### lastmile plan for \`${plan.env}\`${plan.gitSha ? ` at \`${plan.gitSha}\`` : ''}`, '', summaryLine(plan)];
  const moving = plan.products.filter((p) => p.status !== 'unchanged');
  if (moving.length > 0) {
    lines.push('', '| product | change | version | contract | why |', '| --- | --- | --- | --- | --- |');
    for (const p of moving) {
      const contract = p.contract?.verdict ? `${CLASS_LABEL[p.contract.verdict]}${p.contract.accepted ? '' : ' — **refused**'}` : '—';
      lines.push(`| \`${p.product}\` | ${p.status} | ${escape(versionText(p))} | ${contract} | ${escape(p.reasons.map((r) => r.part).join(', ') || '—')} |`);
    }
    for (const p of moving) {
      lines.push('', `<details${p.contract && !p.contract.accepted ? ' open' : ''}><summary><code>${p.product}</code> ${p.status}</summary>`, '');
      for (const line of detailLines(p)) lines.push(`- ${escape(line)}`);
      lines.push('', '</details>');
    }
  }
  return lines.join('\n');
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
