/**
 * A deployment plan: what applying the products at a revision would change in an environment, compared with what
 * the environment runs (its deployments ledger). Per product: new, changed, removed or unchanged — and for a change,
 * which parts of its fingerprint moved, the targets and schedules added, changed or removed, and the contract diff
 * against the deployed version with its verdict. A plan is a first-class object: saved to a file, it is applied
 * exactly (`lastmile deploy --plan`), and refused once the environment or the products moved on.
 */
import type { Product } from '../product/model.js';
import { scheduleText } from '../product/schedule.js';
import { diffProduct } from '../static/diff/product-diff.js';
import type { ProductDiff } from '../static/diff/types.js';
import type { StaticProduct } from '../static/types.js';
import { canonicalJson, digest, FINGERPRINT_PARTS, PART_LABEL, type Fingerprint, type FingerprintPart } from './fingerprint.js';
import type { PlannedGrant } from './grants.js';
import type { LedgerEntry } from './ledger.js';
import type { PlannedSync } from './sync-preview.js';

export type PlannedStatus = 'new' | 'changed' | 'removed' | 'unchanged';

export interface PlannedProduct {
  product: string;
  file?: string;
  status: PlannedStatus;
  version: { from?: string; to?: string };
  /** why it counts as changed: each fingerprint part that moved */
  reasons: { part: FingerprintPart; message: string }[];
  targets: { added: string[]; changed: string[]; removed: string[] };
  schedules: { target: string; from?: string; to?: string }[];
  /** the contract diff against the deployed version (changed products whose ledger row holds the product) */
  contract?: Pick<ProductDiff, 'verdict' | 'accepted' | 'refusal' | 'changes'>;
  /** the ledger row the plan was made against (undefined: never deployed) */
  basedOn?: number;
  /** the fingerprint it deploys (undefined for a removal) */
  fingerprint?: Fingerprint;
  /** the share grants of its targets the deploy makes or revokes, and those its targets' first runs will make */
  grants?: PlannedGrant[];
  /** what each reverse ETL target would send on its next sync (a dry run against the environment) */
  syncs?: PlannedSync[];
}

/** What a plan observed in the environment besides the ledger: the share reconcile and the syncs' dry runs. */
export interface PlanObservations {
  grants: readonly PlannedGrant[];
  syncs: ReadonlyMap<string, readonly PlannedSync[]>;
  /** what a deploy of this plan would fail on (the grants cannot be reconciled as declared) */
  problems: readonly string[];
}

export interface DeployPlan {
  format: 1;
  env: string;
  /** the git commit the products were read at (`-dirty` when the work tree has changes) */
  gitSha?: string;
  createdAt: string;
  products: PlannedProduct[];
  /** grant changes of the environment's share schemas and roles, not of one product's view */
  grants?: PlannedGrant[];
  /** what a deploy of this plan would fail on: the plan is refused */
  problems?: string[];
  summary: { new: number; changed: number; removed: number; unchanged: number; refused: number };
  /** a digest of everything above but `createdAt`: the plan's identity in the ledger */
  hash: string;
}

export interface PlanInput {
  env: string;
  gitSha?: string;
  /** the products to deploy, with where they were read from */
  products: readonly { product: Product; file: string }[];
  fingerprints: ReadonlyMap<string, Fingerprint>;
  running: ReadonlyMap<string, LedgerEntry>;
  observed?: PlanObservations;
  now?: Date;
}

export function makePlan(input: PlanInput): DeployPlan {
  const planned: PlannedProduct[] = [];
  const wanted = new Set(input.products.map((p) => p.product.name));
  for (const { product, file } of input.products) {
    const now = input.fingerprints.get(product.name)!;
    const entry = input.running.get(product.name);
    planned.push(entry ? comparedWithLedger(product, file, now, entry) : newProduct(product, file, now));
  }
  for (const [name, entry] of input.running) {
    if (wanted.has(name)) continue;
    const old = entry.manifest?.product;
    planned.push({
      product: name,
      status: 'removed',
      version: { from: entry.deployment.version },
      reasons: [],
      targets: { added: [], changed: [], removed: old ? old.serve.map((t) => t.name) : [] },
      schedules: (entry.manifest?.schedules ?? []).map((s) => ({ target: s.target, from: scheduleText(s) })),
      contract: { verdict: 'breaking', accepted: false, refusal: 'the product is removed: its consumers lose it', changes: [{ class: 'breaking', subject: 'product', message: 'removed' }] },
      basedOn: entry.deployment.deploymentId,
    });
  }
  planned.sort((a, b) => a.product.localeCompare(b.product));
  const observed = input.observed;
  for (const p of planned) {
    const grants = observed?.grants.filter((g) => g.product === p.product) ?? [];
    if (grants.length > 0) p.grants = grants;
    const syncs = observed?.syncs.get(p.product);
    if (syncs && syncs.length > 0 && p.status !== 'removed') p.syncs = [...syncs];
  }
  const known = new Set(planned.map((p) => p.product));
  const environmentGrants = observed?.grants.filter((g) => g.product === undefined || !known.has(g.product)) ?? [];
  const count = (s: PlannedStatus) => planned.filter((p) => p.status === s).length;
  const body = {
    format: 1 as const,
    env: input.env,
    ...(input.gitSha !== undefined && { gitSha: input.gitSha }),
    products: planned,
    ...(environmentGrants.length > 0 && { grants: environmentGrants }),
    ...(observed && observed.problems.length > 0 && { problems: [...observed.problems] }),
    summary: {
      new: count('new'),
      changed: count('changed'),
      removed: count('removed'),
      unchanged: count('unchanged'),
      refused: planned.filter((p) => p.contract && !p.contract.accepted).length + (observed?.problems.length ?? 0),
    },
  };
  return { ...body, createdAt: (input.now ?? new Date()).toISOString(), hash: planHash(body) };
}

/** The plan's digest over everything but its creation time and the hash itself. */
export function planHash(plan: Omit<DeployPlan, 'createdAt' | 'hash'> | DeployPlan): string {
  const { createdAt: _c, hash: _h, ...body } = plan as DeployPlan;
  void _c;
  void _h;
  return digest(canonicalJson(body));
}

function newProduct(product: Product, file: string, now: Fingerprint): PlannedProduct {
  return {
    product: product.name,
    file,
    status: 'new',
    version: { to: product.version },
    reasons: [],
    targets: { added: product.serve.map((t) => t.name), changed: [], removed: [] },
    schedules: product.serve.flatMap((t) => (t.schedule ? [{ target: t.name, to: scheduleText(t.schedule) }] : [])),
    fingerprint: now,
  };
}

function comparedWithLedger(product: Product, file: string, now: Fingerprint, entry: LedgerEntry): PlannedProduct {
  const base = { product: product.name, file, version: { from: entry.deployment.version, to: product.version }, basedOn: entry.deployment.deploymentId, fingerprint: now };
  const manifest = entry.manifest;
  if (!manifest) {
    return {
      ...base,
      status: 'changed',
      reasons: [{ part: 'version', message: `the ledger's row ${entry.deployment.deploymentId} holds no fingerprint (deployed before plans existed), so every part counts as changed` }],
      targets: { added: [], changed: product.serve.map((t) => t.name), removed: [] },
      schedules: [],
    };
  }
  const reasons = FINGERPRINT_PARTS.filter((part) => manifest.fingerprint[part] !== now[part]).map((part) => ({
    part,
    message: part === 'version' ? `the version moved from ${manifest.fingerprint.version} to ${now.version}` : `${PART_LABEL[part]} changed`,
  }));
  const before = new Map(manifest.product.serve.map((t) => [t.name, t]));
  const after = new Map(product.serve.map((t) => [t.name, t]));
  const targets = {
    added: [...after.keys()].filter((n) => !before.has(n)),
    changed: [...after.keys()].filter((n) => before.has(n) && canonicalJson(before.get(n)) !== canonicalJson(after.get(n))),
    removed: [...before.keys()].filter((n) => !after.has(n)),
  };
  const textOf = (t: Product['serve'][number] | undefined) => (t?.schedule ? scheduleText(t.schedule) : undefined);
  const schedules = [...new Set([...before.keys(), ...after.keys()])]
    .map((target) => ({ target, from: textOf(before.get(target)), to: textOf(after.get(target)) }))
    .filter((s) => s.from !== s.to)
    .map((s) => ({ target: s.target, ...(s.from !== undefined && { from: s.from }), ...(s.to !== undefined && { to: s.to }) }));
  const diff = diffProduct(asStatic({ ...manifest.product, file: undefined } as Product, file), asStatic(product, file));
  const contract = diff.changes.length > 0 ? { ...(diff.verdict && { verdict: diff.verdict }), accepted: diff.accepted, ...(diff.refusal && { refusal: diff.refusal }), changes: [...diff.changes] } : undefined;
  return { ...base, status: reasons.length > 0 ? 'changed' : 'unchanged', reasons, targets, schedules, ...(contract && { contract }) };
}

function asStatic(product: Product, file: string): StaticProduct {
  return { file, product, how: 'static', computed: [], position: { line: 1, column: 1 } };
}
