/**
 * The promotion gates: a product moves from one environment to the next only if, in the environment it comes from,
 * its checks passed in its last N runs of the version being promoted, its SLOs held (none breached, none without
 * measurements), CI recorded its test suite passing at the commit that environment runs, and it has no breaking
 * contract change against the version the next environment runs unless its major version was bumped.
 */
import type pg from 'pg';
import type { MetaStore } from '../meta/index.js';
import type { Product } from '../product/model.js';
import { evaluateSlos } from '../slo/index.js';
import { diffProduct } from '../static/diff/product-diff.js';
import { latestCiResult } from './ci-results.js';
import type { LedgerEntry } from './ledger.js';

export type GateName = 'checks' | 'slo' | 'tests' | 'contract';

export interface GateResult {
  gate: GateName;
  passed: boolean;
  detail: string;
}

export interface ProductGates {
  product: string;
  version: string;
  gitSha: string | null;
  passed: boolean;
  gates: GateResult[];
}

export interface GateOptions {
  /** how many of the latest runs of the version must have succeeded (default 3) */
  runs: number;
  /** the CI suite whose result at the commit counts (default `test`) */
  suite: string;
  now: Date;
}

export interface GateSource {
  env: string;
  pool: pg.Pool;
  meta: MetaStore;
}

export async function promotionGates(source: GateSource, candidates: readonly LedgerEntry[], target: { env: string; running: ReadonlyMap<string, LedgerEntry> }, options: GateOptions): Promise<ProductGates[]> {
  const verdicts: ProductGates[] = [];
  for (const entry of candidates) {
    const product = entry.manifest!.product as Product;
    const gates = [
      await checksGate(source, product, options),
      await sloGate(source, product, options),
      await testsGate(source, entry, options),
      contractGate(product, target.running.get(product.name), target.env),
    ];
    verdicts.push({ product: product.name, version: product.version, gitSha: entry.deployment.gitSha, passed: gates.every((g) => g.passed), gates });
  }
  return verdicts;
}

async function checksGate(source: GateSource, product: Product, options: GateOptions): Promise<GateResult> {
  const runs = await source.meta.listRuns({ env: source.env, product: product.name, productVersion: product.version, finished: true, limit: options.runs });
  if (runs.length < options.runs) {
    return { gate: 'checks', passed: false, detail: `only ${runs.length} finished run${runs.length === 1 ? '' : 's'} of ${product.version} in ${source.env}; the gate wants the last ${options.runs} to have passed their checks` };
  }
  const bad = runs.filter((r) => r.status !== 'succeeded');
  if (bad.length > 0) {
    return { gate: 'checks', passed: false, detail: `${bad.length} of the last ${options.runs} runs of ${product.version} in ${source.env} did not succeed: ${bad.map((r) => `${r.runId.slice(0, 8)} ${r.status}${r.reasons.length ? ` (${r.reasons[0]})` : r.error ? ` (${r.error.slice(0, 120)})` : ''}`).join('; ')}` };
  }
  return { gate: 'checks', passed: true, detail: `the last ${options.runs} runs of ${product.version} in ${source.env} succeeded` };
}

async function sloGate(source: GateSource, product: Product, options: GateOptions): Promise<GateResult> {
  if (!product.slo) return { gate: 'slo', passed: true, detail: 'no SLOs declared' };
  const statuses = await evaluateSlos(source.pool, product, source.env, options.now);
  const failing = statuses.filter((s) => s.status === 'breached' || s.status === 'no_data');
  if (failing.length > 0) {
    return { gate: 'slo', passed: false, detail: `in ${source.env}: ${failing.map((s) => `${s.slo} ${s.status === 'no_data' ? 'has no measurements' : `breached (budget ${s.budgetRemaining === null ? '—' : `${Math.round(s.budgetRemaining * 100)} %`} left)`}`).join(', ')}` };
  }
  return { gate: 'slo', passed: true, detail: `${statuses.map((s) => `${s.slo} ${s.status.replace('_', ' ')}`).join(', ')} in ${source.env} over ${product.slo.window}` };
}

async function testsGate(source: GateSource, entry: LedgerEntry, options: GateOptions): Promise<GateResult> {
  const sha = entry.deployment.gitSha;
  if (!sha) return { gate: 'tests', passed: false, detail: `${source.env} runs it from a deployment with no git commit, so no test result can vouch for it` };
  if (sha.endsWith('-dirty')) return { gate: 'tests', passed: false, detail: `${source.env} runs it from an uncommitted work tree (${sha}): deploy a commit CI has tested` };
  const result = await latestCiResult(source.pool, sha, options.suite);
  if (!result) return { gate: 'tests', passed: false, detail: `CI recorded no '${options.suite}' result for ${sha.slice(0, 12)} (ci/ scripts run lastmile ci-record after the tests)` };
  if (result.status !== 'passed') return { gate: 'tests', passed: false, detail: `the '${options.suite}' suite failed at ${sha.slice(0, 12)} (${result.recordedAt.toISOString()}${result.detail ? `: ${result.detail}` : ''})` };
  return { gate: 'tests', passed: true, detail: `the '${options.suite}' suite passed at ${sha.slice(0, 12)}` };
}

function contractGate(product: Product, running: LedgerEntry | undefined, env: string): GateResult {
  if (!running?.manifest) return { gate: 'contract', passed: true, detail: running ? `${env} runs a version deployed before fingerprints; nothing to compare` : `new in ${env}` };
  const file = product.file ?? product.name;
  const asStatic = (p: Product) => ({ file, product: p, how: 'static' as const, computed: [], position: { line: 1, column: 1 } });
  const diff = diffProduct(asStatic(running.manifest.product as Product), asStatic(product));
  if (!diff.accepted) return { gate: 'contract', passed: false, detail: `against ${running.deployment.version} in ${env}: ${diff.changes.filter((c) => c.class === 'breaking').map((c) => `${c.subject}: ${c.message}`).join('; ')} — ${diff.refusal}` };
  return { gate: 'contract', passed: true, detail: diff.verdict ? `${diff.verdict} against ${running.deployment.version} in ${env}${diff.version.bump === 'major' ? ' (major version bump)' : ''}` : `the same contract as ${running.deployment.version} in ${env}` };
}
