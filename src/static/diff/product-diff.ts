/**
 * The contract diff between two reads of the products (src/static/read.ts): per product, every change classified
 * breaking, needs review or non-breaking, and whether its version bump accepts it — a breaking change needs a major
 * bump (for 0.x versions, a minor one), the verdict the promotion gate uses.
 */
import type { Product } from '../../product/model.js';
import { normalizedSource } from '../../sql/normalize.js';
import type { StaticProduct, StaticRead } from '../types.js';
import { contractChanges } from './contract-changes.js';
import { targetChanges } from './target-changes.js';
import { CLASS_ORDER, type Change, type ChangeClass, type ContractDiff, type ProductDiff, type VersionBump } from './types.js';
import { canonicalJson } from '../../text/canonical-json.js';

/**
 * `invalidAt`: modules (paths relative to the project) that exist at `to` but do not validate — their products are
 * reported unreadable, not removed.
 */
export function diffReads(from: StaticRead, to: StaticRead, invalidAt: ReadonlySet<string> = new Set()): ContractDiff {
  const before = new Map(from.products.map((p) => [p.product.name, p]));
  const after = new Map(to.products.map((p) => [p.product.name, p]));
  const products: ProductDiff[] = [];
  for (const [name, old] of before) {
    const now = after.get(name);
    products.push(now ? diffProduct(old, now) : missingProduct(old, invalidAt.has(old.file) ? 'invalid' : 'removed'));
  }
  for (const [name, now] of after) if (!before.has(name)) products.push(addedProduct(now));
  products.sort((a, b) => a.product.localeCompare(b.product));
  const count = (c: ChangeClass) => products.filter((p) => p.verdict === c).length;
  return {
    from: from.revision,
    to: to.revision,
    products,
    summary: { breaking: count('breaking'), needsReview: count('needs-review'), nonBreaking: count('non-breaking'), refused: products.filter((p) => !p.accepted).length },
  };
}

export function diffProduct(old: StaticProduct, now: StaticProduct): ProductDiff {
  const changes = productChanges(old.product, now.product);
  const verdict = verdictOf(changes);
  const bump = versionBump(old.product.version, now.product.version);
  const accepted = verdict !== 'breaking' || bump === 'major';
  return {
    product: now.product.name,
    file: now.file,
    status: changes.length > 0 ? 'changed' : 'unchanged',
    ...(verdict && { verdict }),
    version: { from: old.product.version, to: now.product.version, bump },
    accepted,
    ...(!accepted && {
      refusal: `a breaking change needs a major version bump, but the version went ${old.product.version} → ${now.product.version}${bump === 'none' ? ' (unchanged)' : ''}: set version to ${nextMajor(old.product.version)} and tell the consumers, or make the change compatible`,
    }),
    changes,
  };
}

/** A product the new revision no longer has (`removed`) or has but cannot read (`invalid`): refused either way. */
function missingProduct(old: StaticProduct, status: 'removed' | 'invalid'): ProductDiff {
  const removed = status === 'removed';
  return {
    product: old.product.name,
    file: old.file,
    status,
    ...(removed && { verdict: 'breaking' as const }),
    version: { from: old.product.version, bump: 'none' },
    accepted: false,
    refusal: removed
      ? `the product is removed, and every consumer of it (${old.product.users.map((u) => u.who).join(', ') || 'its users'}) loses it: remove it only once its consumers have moved off, after review`
      : `${old.file} does not validate at the new revision, so its changes cannot be judged: fix the problems listed above`,
    changes: removed ? [{ class: 'breaking', subject: 'product', message: `removed (${old.file} is gone)` }] : [],
  };
}

function addedProduct(now: StaticProduct): ProductDiff {
  return {
    product: now.product.name,
    file: now.file,
    status: 'added',
    verdict: 'non-breaking',
    version: { to: now.product.version, bump: 'none' },
    accepted: true,
    changes: [{ class: 'non-breaking', subject: 'product', message: `added (${now.file})` }],
  };
}

export function productChanges(from: Product, to: Product): Change[] {
  const changes: Change[] = [...contractChanges(from, to), ...targetChanges(from, to)];
  if (normalizedSource(from.source) !== normalizedSource(to.source)) {
    changes.push({ class: 'non-breaking', subject: 'source', message: 'the source query changed (beyond formatting and comments); the contract above says what consumers see' });
  }
  if (from.audience !== to.audience) {
    changes.push(
      to.audience === 'external'
        ? { class: 'needs-review', subject: 'audience', message: 'now external: the data leaves the organisation' }
        : { class: 'breaking', subject: 'audience', message: 'now internal: external consumers lose it' },
    );
  }
  for (const field of ['description', 'owner', 'domain', 'users'] as const) {
    if (canonicalJson(from[field]) !== canonicalJson(to[field])) changes.push({ class: 'non-breaking', subject: field, message: `${field} changed (documentation)` });
  }
  changes.push(...checkChanges(from, to), ...sloChanges(from, to));
  return changes;
}

function checkChanges(from: Product, to: Product): Change[] {
  const key = (c: Product['checks'][number]) => canonicalJson(c);
  const after = new Set(to.checks.map(key));
  const before = new Set(from.checks.map(key));
  const changes: Change[] = [];
  for (const check of from.checks) if (!after.has(key(check))) changes.push({ class: 'needs-review', subject: `check ${check.name}`, message: 'removed or changed: the data is less guarded than before' });
  for (const check of to.checks) if (!before.has(key(check))) changes.push({ class: 'non-breaking', subject: `check ${check.name}`, message: 'added or changed' });
  return changes;
}

function sloChanges(from: Product, to: Product): Change[] {
  const a = (from.slo ?? {}) as Readonly<Record<string, unknown>>;
  const b = (to.slo ?? {}) as Readonly<Record<string, unknown>>;
  const changes: Change[] = [];
  for (const field of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (canonicalJson(a[field]) === canonicalJson(b[field])) continue;
    if (b[field] === undefined) changes.push({ class: 'needs-review', subject: `slo ${field}`, message: 'removed: consumers lose that promise' });
    else changes.push({ class: 'non-breaking', subject: `slo ${field}`, message: `${a[field] === undefined ? 'added' : `changed from ${canonicalJson(a[field])}`} to ${canonicalJson(b[field])}` });
  }
  return changes;
}

function verdictOf(changes: readonly Change[]): ChangeClass | undefined {
  return CLASS_ORDER.find((c) => changes.some((change) => change.class === c));
}

function parseVersion(version: string): [number, number, number] {
  const [major = 0, minor = 0, patch = 0] = version.split(/[-+]/)[0]!.split('.').map(Number);
  return [major, minor, patch];
}

/** How the version moved; for 0.x versions a minor bump is the major one (semver: anything may change before 1.0). */
export function versionBump(from: string, to: string): VersionBump {
  const [a, b] = [parseVersion(from), parseVersion(to)];
  for (let i = 0; i < 3; i++) {
    if (b[i]! > a[i]!) return i === 0 || (i === 1 && a[0] === 0) ? 'major' : i === 1 ? 'minor' : 'patch';
    if (b[i]! < a[i]!) return 'lower';
  }
  return 'none';
}

function nextMajor(version: string): string {
  const [major, minor] = parseVersion(version);
  return major === 0 ? `0.${minor + 1}.0` : `${major + 1}.0.0`;
}
