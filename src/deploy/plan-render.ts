/** A deployment plan for people: a terminal listing, or Markdown for a pull-request comment. */
import type { PlannedGrant } from './grants.js';
import type { DeployPlan, PlannedProduct } from './plan.js';
import type { PlannedSync } from './sync-preview.js';

/** Changes listed one by one before the rest is counted. */
const LISTED = 8;

const CLASS_LABEL = { breaking: 'breaking', 'needs-review': 'needs review', 'non-breaking': 'non-breaking' } as const;

function versionText(p: PlannedProduct): string {
  const { from, to } = p.version;
  if (from && to) return from === to ? to : `${from} → ${to}`;
  return to ?? from ?? '';
}

function summaryLine(plan: DeployPlan): string {
  const s = plan.summary;
  const moves = s.new + s.changed + s.removed;
  if (plan.problems?.length) return `${plan.env}: the plan cannot be deployed (${plan.problems.length} problem${plan.problems.length === 1 ? '' : 's'} above) (plan ${plan.hash})`;
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
  lines.push(...grantLines(p.grants ?? []));
  for (const sync of p.syncs ?? []) lines.push(syncLine(sync));
  return lines;
}

function grantText(g: PlannedGrant): string {
  const who = g.grantee ? ` ${g.action === 'revoke' ? 'from' : 'to'} ${g.grantee}` : '';
  const what = g.privileges?.length ? ` (${g.privileges.join(', ')})` : '';
  return `${g.action} ${g.object}${who}${what}${g.reason !== 'declared' ? ` [${g.reason}]` : ''}`;
}

/** The grants a deploy makes one by one (the first few), and those waiting for a first run counted. */
function grantLines(grants: readonly PlannedGrant[]): string[] {
  const lines: string[] = [];
  const now = grants.filter((g) => g.when === 'deploy');
  for (const g of now.slice(0, LISTED)) lines.push(`at deploy: ${grantText(g)}`);
  if (now.length > LISTED) lines.push(`at deploy: ${now.length - LISTED} more grant changes (--json lists them)`);
  const later = grants.filter((g) => g.when === 'first run');
  if (later.length > 0) {
    const counts = new Map<string, number>();
    for (const g of later) counts.set(g.action, (counts.get(g.action) ?? 0) + 1);
    const consumers = [...new Set(later.flatMap((g) => (g.consumer ? [g.consumer] : [])))];
    lines.push(
      `at the share's first run, after its checks: ${[...counts].map(([action, n]) => `${action} ×${n}`).join(', ')}` +
        (consumers.length > 0 ? ` for ${consumers.slice(0, 3).join(', ')}${consumers.length > 3 ? ` and ${consumers.length - 3} more` : ''}` : ''),
    );
  }
  return lines;
}

function syncLine(sync: PlannedSync): string {
  if ('error' in sync) return `sync ${sync.target}: no dry run (${sync.error})`;
  const c = sync.counts;
  const send = c.insert + c.update + c.upsert;
  const ops = [['insert', c.insert], ['update', c.update], ['upsert', c.upsert]].filter(([, n]) => n !== 0).map(([op, n]) => `${n} ${op}`);
  return (
    `sync ${sync.target} (${sync.mode}) → ${sync.destination}: next sync sends ${send}${ops.length ? ` (${ops.join(', ')})` : ''}, deletes ${c.delete}, ${c.unchanged} unchanged` +
    (c.nullKeys > 0 ? `, ${c.nullKeys} rejected for a NULL key` : '') +
    (sync.held ? '; a guardrail would hold it for a decision' : '')
  );
}

/** Whether an unchanged product still has something to say: grants the deploy changes, or a sync preview. */
function noteworthy(p: PlannedProduct): boolean {
  return p.status !== 'unchanged' || (p.grants ?? []).some((g) => g.when === 'deploy') || (p.syncs ?? []).length > 0;
}

function environmentLines(plan: DeployPlan): string[] {
  return [...(plan.problems ?? []).map((problem) => `CANNOT DEPLOY: ${problem}`), ...grantLines(plan.grants ?? [])];
}

export function planText(plan: DeployPlan): string {
  const lines = [`plan for ${plan.env}${plan.gitSha ? ` at ${plan.gitSha}` : ''}`];
  for (const p of plan.products) {
    if (!noteworthy(p)) continue;
    lines.push('', `${p.status.padEnd(8)} ${p.product} ${versionText(p)}${p.contract?.verdict ? ` (${CLASS_LABEL[p.contract.verdict]})` : ''}`);
    for (const line of detailLines(p)) lines.push(`  ${line}`);
  }
  const environment = environmentLines(plan);
  if (environment.length > 0) lines.push('', `${plan.env} as a whole:`, ...environment.map((l) => `  ${l}`));
  lines.push('', summaryLine(plan));
  return lines.join('\n');
}

export function planMarkdown(plan: DeployPlan): string {
  const lines = [`### lastmile plan for \`${plan.env}\`${plan.gitSha ? ` at \`${plan.gitSha}\`` : ''}`, '', summaryLine(plan)];
  const environment = environmentLines(plan);
  if (environment.length > 0) lines.push('', ...environment.map((l) => `- ${escape(l)}`));
  const moving = plan.products.filter((p) => p.status !== 'unchanged');
  const notes = plan.products.filter((p) => p.status === 'unchanged' && noteworthy(p));
  for (const p of notes) {
    lines.push('', `<details><summary><code>${p.product}</code> unchanged</summary>`, '');
    for (const line of detailLines(p)) lines.push(`- ${escape(line)}`);
    lines.push('', '</details>');
  }
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
