/**
 * The desired state of an environment's shares, from its products: for each share target and each consumer still
 * entitled, one security-barrier view — the contract columns the consumer may see, masked as declared, and only its
 * rows — and the role that may read it. Pure: the reconcile (reconcile.ts) compares this with the catalog.
 */
import type { Column, Product } from '../product/model.js';
import type { MaskSpec, ShareConsumerSpec, ShareTarget } from '../product/targets.js';
import { InputError } from '../errors.js';
import { replaceNamedParameters } from '../text/named-parameters.js';
import { durationMs } from '../time/duration.js';
import { quoteIdent, quoteLiteral, quoteQualified } from '../warehouse/quote.js';
import { maskedColumn, type MaskMethod } from './masks.js';
import { consumerRole, MAX_IDENTIFIER, ownerRole, viewName, type EnvNaming } from './names.js';

/** How long ahead of an expiry or sunset the owner is told, unless the target says. */
export const DEFAULT_NOTICE = '7d';

/** One consumer of one share target, resolved. */
export interface ConsumerPlan {
  product: string;
  target: string;
  consumer: string;
  role: string;
  schema: string;
  view: string;
  /** the view's SQL (the `select`), with everything quoted */
  sql: string;
  columns: string[];
  masks: Record<string, MaskMethod>;
  /** the tenant the rows are filtered to; null: every row; undefined: the target filters by a predicate */
  tenant: string | null | undefined;
  /** when access ends (null: never); computed from the grant's first time and last renewal */
  expiresAt: Date | null;
  /** when access is taken away for not being used (null: no `sunsetAfter`, or usage unknown) */
  sunsetAt: Date | null;
  /** the target's `sunsetAfter` in ms (null: none) */
  sunsetAfterMs: number | null;
  /** why a consumer in `expired` lost its access */
  endReason?: 'expired' | 'unused';
  /** when to tell the owner ahead of the expiry or sunset */
  noticeAt: Date | null;
  /** the product's source relations the owner role must be able to read */
  reads: { schema: string; name: string }[];
  /** the owner of the product (told ahead of expiries) */
  ownerTeam: string;
}

export interface SharePlan {
  ownerRole: string;
  /** physical share schemas, each with the roles that get USAGE on it */
  schemas: Map<string, Set<string>>;
  consumers: ConsumerPlan[];
  /** declared but no longer entitled (expired): their views and grants go */
  expired: ConsumerPlan[];
}

/** What `lastmile.share_grants` knows of one consumer's access. */
export interface GrantRecord {
  firstGrantedAt: Date;
  renewedAt: Date;
  /** null while usage has never been sampled (unknown) */
  usageSampledAt: Date | null;
  lastUsedAt: Date | null;
}

/** When each consumer was first granted, last renewed and last read, by `product/target/consumer`. */
export type GrantHistory = ReadonlyMap<string, GrantRecord>;

export function grantKey(product: string, target: string, consumer: string): string {
  return `${product}/${target}/${consumer}`;
}

export interface PlanInput {
  products: readonly Product[];
  env: EnvNaming & { schemas: Readonly<Record<string, string>> };
  history: GrantHistory;
  /**
   * Only these share targets (`product/target`): the ones a run has served. A target is first granted by its own
   * product's run — after that product's checks — never by another product's. Undefined: every declared target.
   */
  served?: ReadonlySet<string>;
  now: Date;
  /** the serving query of a product in this environment (its source, or its source without quarantined rows) */
  servedSql: (product: Product) => string;
}

/** Normalizes a consumer entry: a bare id is `{ id }`. */
export function consumerSpec(entry: string | ShareConsumerSpec): ShareConsumerSpec {
  return typeof entry === 'string' ? { id: entry } : entry;
}

export function sharePlan(input: PlanInput): SharePlan {
  const plan: SharePlan = { ownerRole: ownerRole(input.env), schemas: new Map(), consumers: [], expired: [] };
  for (const product of input.products) {
    for (const target of product.serve) {
      if (target.kind !== 'share') continue;
      if (input.served && !input.served.has(`${product.name}/${target.name}`)) continue;
      const schema = input.env.schemas[target.to] ?? target.to;
      if (!plan.schemas.has(schema)) plan.schemas.set(schema, new Set());
      for (const entry of target.consumers ?? []) {
        const consumer = planConsumer(input, product, target, consumerSpec(entry), schema);
        const now = input.now.getTime();
        if (consumer.expiresAt !== null && consumer.expiresAt.getTime() <= now) consumer.endReason = 'expired';
        else if (consumer.sunsetAt !== null && consumer.sunsetAt.getTime() <= now) consumer.endReason = 'unused';
        if (consumer.endReason === undefined) {
          plan.consumers.push(consumer);
          plan.schemas.get(schema)!.add(consumer.role);
        } else {
          plan.expired.push(consumer);
        }
      }
    }
  }
  return plan;
}

function planConsumer(input: PlanInput, product: Product, target: ShareTarget, spec: ShareConsumerSpec, schema: string): ConsumerPlan {
  const view = viewName(product.name, spec.id);
  const role = consumerRole(input.env, target.to, spec);
  for (const [what, name] of [['view', view], ['role', role]] as const) {
    if (Buffer.byteLength(name) > MAX_IDENTIFIER) {
      throw new InputError(`share ${target.name} of ${product.name}: the ${what} name ${name} is longer than PostgreSQL's 63 bytes; shorten the consumer id or give it a role`);
    }
  }
  const byName = new Map(product.contract.columns.map((c) => [c.name, c] as const));
  const columns = [...(spec.columns ?? product.contract.columns.map((c) => c.name))];
  const masks = resolveMasks(spec.mask ?? target.mask, product.contract.columns);
  const select = columns.map((name) => maskedColumn(name, byName.get(name)!.type, masks[name])).join(',\n       ');
  const { where, tenant } = filterOf(target, spec);
  const sql = `select ${select}\n  from (${input.servedSql(product)}) as s${where ? `\n where ${where}` : ''}`;
  const key = grantKey(product.name, target.name, spec.id);
  const history = input.history.get(key);
  const expiresAt = expiryOf(target, spec, history, input.now);
  const sunsetAt = sunsetOf(target, history);
  const notice = durationMs(target.noticeBefore ?? DEFAULT_NOTICE);
  const endsAt = [expiresAt, sunsetAt].filter((d): d is Date => d !== null).sort((a, b) => a.getTime() - b.getTime())[0];
  return {
    product: product.name,
    target: target.name,
    consumer: spec.id,
    role,
    schema,
    view,
    sql,
    columns,
    masks,
    tenant,
    expiresAt,
    sunsetAt,
    sunsetAfterMs: target.sunsetAfter !== undefined ? durationMs(target.sunsetAfter) : null,
    noticeAt: endsAt ? new Date(endsAt.getTime() - notice) : null,
    reads: readsOf(product, input.env.schemas),
    ownerTeam: product.owner.team,
  };
}

/** Column → mask method: classifications first, then named columns (which win). An array masks by classification, redacting. */
export function resolveMasks(spec: MaskSpec | undefined, columns: readonly Column[]): Record<string, MaskMethod> {
  const masks: Record<string, MaskMethod> = {};
  if (!spec) return masks;
  const entries: [string, MaskMethod][] = Array.isArray(spec)
    ? (spec as readonly string[]).map((classification) => [classification, 'redact'])
    : (Object.entries(spec) as [string, MaskMethod][]);
  const isClassification = (key: string) => key === 'public' || key === 'internal' || key === 'pii';
  for (const [key, method] of entries) {
    if (!isClassification(key)) continue;
    for (const column of columns) if (column.classification === key) masks[column.name] = method;
  }
  for (const [key, method] of entries) if (!isClassification(key)) masks[key] = method;
  return masks;
}

/** The row filter: the tenant column equal to the consumer's tenant, or the target's predicate with its attributes. */
function filterOf(target: ShareTarget, spec: ShareConsumerSpec): { where: string | undefined; tenant: string | null | undefined } {
  const filter = target.rowFilter;
  if (filter === undefined) return { where: undefined, tenant: null };
  if (typeof filter === 'string') {
    const tenant = spec.tenant === undefined ? spec.id : spec.tenant;
    if (tenant === null) return { where: undefined, tenant: null };
    // an untyped literal takes the column's type, so an index on the column serves the filter
    return { where: `s.${quoteIdent(filter)} = ${quoteLiteral(String(tenant))}`, tenant: String(tenant) };
  }
  const values: Record<string, string | number | boolean> = {
    id: spec.id,
    ...(spec.tenant !== undefined && spec.tenant !== null && { tenant: spec.tenant }),
    ...spec.attributes,
  };
  // `:name` outside quotes becomes the consumer's value as a literal (the one quoting helper); an unknown name is an error
  const where = replaceNamedParameters(filter.where, (name) => {
    if (!(name in values)) {
      throw new InputError(`share ${target.name}: its rowFilter uses :${name}, which consumer ${spec.id} does not define (attributes: ${Object.keys(values).join(', ')})`);
    }
    return quoteLiteral(values[name]);
  });
  return { where: `(${where})`, tenant: undefined };
}

/** `sunsetAfter` past the first grant or the last read — only once usage is known (a sample has been taken). */
export function sunsetOf(target: ShareTarget, history: GrantRecord | undefined): Date | null {
  if (target.sunsetAfter === undefined || !history || history.usageSampledAt === null) return null;
  const since = Math.max(history.firstGrantedAt.getTime(), history.lastUsedAt?.getTime() ?? 0);
  return new Date(since + durationMs(target.sunsetAfter));
}

function expiryOf(target: ShareTarget, spec: ShareConsumerSpec, history: GrantRecord | undefined, now: Date): Date | null {
  const candidates: number[] = [];
  const first = history?.firstGrantedAt ?? now;
  if (spec.expires !== undefined) {
    candidates.push(/^\d{4}-\d{2}-\d{2}/.test(spec.expires) ? Date.parse(spec.expires) : first.getTime() + durationMs(spec.expires));
  }
  // expiresAfter: renewed by every run that serves the share (a share nobody serves any more lapses)
  if (target.expiresAfter !== undefined) candidates.push((history?.renewedAt ?? now).getTime() + durationMs(target.expiresAfter));
  return candidates.length > 0 ? new Date(Math.min(...candidates)) : null;
}

function readsOf(product: Product, schemas: Readonly<Record<string, string>>): { schema: string; name: string }[] {
  const refs = product.source.kind === 'table' ? [product.source] : product.source.tables;
  const seen = new Map<string, { schema: string; name: string }>();
  for (const ref of refs) {
    const schema = schemas[ref.schema] ?? ref.schema;
    seen.set(`${schema}.${ref.name}`, { schema, name: ref.name });
  }
  return [...seen.values()];
}

/** `"schema"."view"` */
export function qualifiedView(consumer: Pick<ConsumerPlan, 'schema' | 'view'>): string {
  return quoteQualified(consumer.schema, consumer.view);
}

