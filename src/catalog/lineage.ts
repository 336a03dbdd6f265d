/**
 * Lineage read from the declarations alone: the tables each product reads (its source, and what its checks,
 * dashboard objects and timed queries read), what each target serves, and which products read another product's
 * served relations — a dashboard's objects (`dashboards.<object>`, or the target's schema) and a share's consumer
 * views (`<to>.<product>__<consumer>`). Names are logical (`schema.name`), as products write them: the same in every
 * environment. Files and reverse ETL destinations leave the warehouse, so no product can read them back.
 */
import { DASHBOARD_SCHEMA } from '../product/dashboard-graph.js';
import type { Product } from '../product/model.js';
import { tableName, type Source, type TableRef } from '../product/source.js';
import type { Target } from '../product/targets.js';
import { viewName } from '../sharing/names.js';

/** A relation a product reads, and through what. */
export interface TableRead {
  /** logical `schema.name` */
  readonly relation: string;
  /** `source`, or what else reads it: `check references_supplier_id`, `dashboard quality_review object supplier_trend`, … */
  readonly via: string;
  /** the product serving this relation, when one does */
  readonly servedBy?: { readonly product: string; readonly target: string };
}

/** A relation one of a product's targets serves in the warehouse. */
export interface ServedRelation {
  readonly relation: string;
  readonly target: string;
  readonly what: 'dashboard object' | 'share view';
}

/** One product reading what another serves. */
export interface ProductEdge {
  readonly from: string;
  readonly fromTarget: string;
  readonly to: string;
  readonly relation: string;
  /** `source` or the other reader (see TableRead.via) */
  readonly via: string;
}

export interface ProductLineage {
  /** the tables of `product.source`, in order, no repeats */
  readonly sources: readonly TableRead[];
  /** other relations read: by checks, dashboard SQL objects and timed queries (not the product's own objects) */
  readonly alsoReads: readonly TableRead[];
  readonly serves: readonly ServedRelation[];
  /** products whose served relations this one reads */
  readonly upstream: readonly ProductEdge[];
  /** products reading this one's served relations */
  readonly downstream: readonly ProductEdge[];
}

/** Lineage of every product, by name. */
export function deriveLineage(products: readonly Product[]): Map<string, ProductLineage> {
  const servedBy = new Map<string, { product: string; target: string }>();
  const serves = new Map<string, ServedRelation[]>();
  for (const product of products) {
    const own = product.serve.flatMap((target) => servedRelations(product.name, target));
    serves.set(product.name, own);
    for (const served of own) if (!servedBy.has(served.relation)) servedBy.set(served.relation, { product: product.name, target: served.target });
  }

  const reads = new Map<string, { sources: TableRead[]; alsoReads: TableRead[] }>();
  for (const product of products) {
    const ownRelations = new Set((serves.get(product.name) ?? []).map((s) => s.relation));
    const mark = (relation: string, via: string): TableRead => {
      const server = servedBy.get(relation);
      return { relation, via, ...(server && server.product !== product.name && { servedBy: server }) };
    };
    const sources = unique(tablesOf(product.source).map(tableName)).map((relation) => mark(relation, 'source'));
    const seen = new Set(sources.map((s) => s.relation));
    const alsoReads: TableRead[] = [];
    for (const { ref, via } of otherReads(product)) {
      const relation = tableName(ref);
      if (seen.has(relation) || ownRelations.has(relation)) continue;
      seen.add(relation);
      alsoReads.push(mark(relation, via));
    }
    reads.set(product.name, { sources, alsoReads });
  }

  const edges: ProductEdge[] = [];
  for (const product of products) {
    const { sources, alsoReads } = reads.get(product.name)!;
    for (const read of [...sources, ...alsoReads]) {
      if (read.servedBy) edges.push({ from: read.servedBy.product, fromTarget: read.servedBy.target, to: product.name, relation: read.relation, via: read.via });
    }
  }

  return new Map(
    products.map((product) => {
      const { sources, alsoReads } = reads.get(product.name)!;
      const lineage: ProductLineage = {
        sources,
        alsoReads,
        serves: serves.get(product.name) ?? [],
        upstream: edges.filter((e) => e.to === product.name),
        downstream: edges.filter((e) => e.from === product.name),
      };
      return [product.name, lineage];
    }),
  );
}

/** The relations a target puts in the warehouse for others to read. */
export function servedRelations(product: string, target: Target): ServedRelation[] {
  if (target.kind === 'dashboard') {
    const schema = target.schema ?? DASHBOARD_SCHEMA;
    return target.objects.map((object) => ({ relation: `${schema}.${object.name}`, target: target.name, what: 'dashboard object' }));
  }
  if (target.kind === 'share') {
    return (target.consumers ?? []).map((consumer) => ({
      relation: `${target.to}.${viewName(product, typeof consumer === 'string' ? consumer : consumer.id)}`,
      target: target.name,
      what: 'share view',
    }));
  }
  return [];
}

function tablesOf(source: Source): readonly TableRef[] {
  return source.kind === 'table' ? [source] : source.tables;
}

/** Relations read besides the source: checks, dashboard SQL objects, dashboard and latency queries. */
function otherReads(product: Product): { ref: TableRef; via: string }[] {
  const out: { ref: TableRef; via: string }[] = [];
  for (const check of product.checks) {
    if (check.type === 'references') out.push({ ref: check.to.table, via: `check ${check.name}` });
    if (check.type === 'assertion') out.push(...tablesOf(check.query).map((ref) => ({ ref, via: `check ${check.name}` })));
  }
  for (const target of product.serve) {
    if (target.kind !== 'dashboard') continue;
    for (const object of target.objects) {
      if ('sql' in object) out.push(...tablesOf(object.sql).map((ref) => ({ ref, via: `dashboard ${target.name}, object ${object.name}` })));
    }
    for (const [name, query] of Object.entries(target.queries ?? {})) {
      out.push(...tablesOf(query).map((ref) => ({ ref, via: `dashboard ${target.name}, query ${name}` })));
    }
  }
  for (const [name, query] of Object.entries(product.slo?.latency?.queries ?? {})) {
    out.push(...tablesOf(query).map((ref) => ({ ref, via: `latency query ${name}` })));
  }
  return out;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
