/**
 * The datasets of a run, named after OpenLineage's conventions (https://openlineage.io/docs/spec/naming): warehouse
 * tables and views `postgres://{host}:{port}` + `{database}.{schema}.{table}`, local folders `file` + their absolute
 * path, buckets `s3://{bucket}` + the key prefix, HTTP APIs their origin + path. Never a user, password, token or query
 * string: a place written as a secret is read for its host, port and database only.
 */
import path from 'node:path';
import type pg from 'pg';
import { placeOf } from '../config/places.js';
import type { ResolvedEnvironment } from '../config/resolve.js';
import { DASHBOARD_SCHEMA } from '../product/dashboard-graph.js';
import type { Column, Product } from '../product/model.js';
import { resolveSecret } from '../product/secret.js';
import type { SchemaMap, TableRef } from '../product/source.js';
import type { DashboardTarget, FilesTarget, ReverseEtlTarget, ShareTarget, Target } from '../product/targets.js';
import { HUBSPOT_API, syncPlace } from '../reverse-etl/places.js';
import { viewName } from '../sharing/names.js';
import { consumerSpec } from '../sharing/plan.js';
import { facetBase } from './producer.js';
import type { Facet, Facets, LineageDataset } from './types.js';

/** Where the environment's warehouse is, as OpenLineage names it. */
export interface WarehouseLocation {
  /** `postgres://{host}:{port}` */
  readonly namespace: string;
  readonly database: string;
}

/** What naming a run's datasets needs of its environment. */
export interface NamingContext {
  readonly warehouse: WarehouseLocation;
  readonly schemas: SchemaMap;
  readonly env: Pick<ResolvedEnvironment, 'name' | 'production' | 'destinations'>;
  /** the project folder: relative folders are named by their absolute path */
  readonly root: string;
  /** the job namespace: the product's own dataset lives there */
  readonly namespace: string;
  /** where secret references are read (default `process.env`) */
  readonly variables?: NodeJS.ProcessEnv;
}

/** Host, port and database of a PostgreSQL connection URL; nothing else of it. */
export function postgresLocation(url: string): WarehouseLocation {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  const host = parsed?.hostname || parsed?.searchParams.get('host') || 'localhost';
  const port = parsed?.port || '5432';
  const database = decodeURIComponent(parsed?.pathname.replace(/^\//, '') ?? '') || 'postgres';
  // a socket folder (`?host=/var/run/postgresql`) is this machine
  const shown = host.startsWith('/') ? 'localhost' : host;
  return { namespace: `postgres://${shown}:${port}`, database };
}

/** The location of the warehouse a pool connects to. */
export function warehouseLocation(pool: pg.Pool): WarehouseLocation {
  const options = (pool as unknown as { options: pg.PoolConfig }).options;
  if (options.connectionString) return postgresLocation(options.connectionString);
  return { namespace: `postgres://${options.host ?? 'localhost'}:${options.port ?? 5432}`, database: options.database ?? 'postgres' };
}

function table(ctx: NamingContext, schema: string, name: string, facets?: Facets): LineageDataset {
  return { namespace: ctx.warehouse.namespace, name: `${ctx.warehouse.database}.${schema}.${name}`, ...(facets && { facets }) };
}

/** The tables the product's source reads, each once, by their physical schema in this environment. */
export function inputDatasets(product: Product, ctx: NamingContext): LineageDataset[] {
  const refs: readonly TableRef[] = product.source.kind === 'table' ? [product.source] : product.source.tables;
  const seen = new Map<string, LineageDataset>();
  for (const ref of refs) {
    const dataset = table(ctx, ctx.schemas[ref.schema] ?? ref.schema, ref.name);
    seen.set(dataset.name, dataset);
  }
  return [...seen.values()];
}

/** A schema facet of columns, in order: name, type, description. */
export function schemaFacet(fields: readonly { name: string; type?: string; description?: string | undefined }[]): Facet {
  return {
    ...facetBase('schema'),
    fields: fields.map((field, index) => ({
      name: field.name,
      ...(field.type !== undefined && { type: field.type }),
      ...(field.description !== undefined && { description: field.description }),
      ordinal_position: index + 1,
    })),
  };
}

function columnsFacet(columns: readonly Column[]): Facet {
  return schemaFacet(columns.map((c) => ({ name: c.name, type: c.type, description: c.description })));
}

function pick(product: Product, names: readonly string[] | undefined): Column[] {
  if (!names) return [...product.contract.columns];
  const byName = new Map(product.contract.columns.map((c) => [c.name, c] as const));
  return names.map((name) => byName.get(name)).filter((c): c is Column => c !== undefined);
}

/** The product itself: its contract, in the job's namespace. */
export function productDataset(product: Product, ctx: NamingContext): LineageDataset {
  return {
    namespace: ctx.namespace,
    name: product.name,
    facets: {
      schema: columnsFacet(product.contract.columns),
      documentation: { ...facetBase('documentation'), description: product.description },
    },
  };
}

function filesDatasets(product: Product, target: FilesTarget, ctx: NamingContext): LineageDataset[] {
  const place = placeOf(ctx.env, target.to);
  const facets = { schema: columnsFacet(pick(product, target.columns)) };
  if (/^s3:\/\//i.test(place.to)) {
    const rest = place.to.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
    return [{ namespace: `s3://${bucket}`, name: prefix === '' ? '/' : prefix, facets }];
  }
  return [{ namespace: 'file', name: path.resolve(ctx.root, place.to), facets }];
}

function shareDatasets(product: Product, target: ShareTarget, ctx: NamingContext): LineageDataset[] {
  const schema = ctx.schemas[target.to] ?? target.to;
  return (target.consumers ?? []).map((entry) => {
    const consumer = consumerSpec(entry);
    return table(ctx, schema, viewName(product.name, consumer.id), { schema: columnsFacet(pick(product, consumer.columns)) });
  });
}

function dashboardDatasets(product: Product, target: DashboardTarget, ctx: NamingContext): LineageDataset[] {
  const logical = target.schema ?? DASHBOARD_SCHEMA;
  const schema = ctx.schemas[logical] ?? logical;
  return target.objects.map((object) => {
    if ('sql' in object) return table(ctx, schema, object.name);
    // a metric object: its dimensions (contract columns), then its metrics
    const dimensions = pick(product, object.by ?? []).map((c) => ({ name: c.name, type: c.type, description: c.description }));
    const metrics = object.metrics.map((name) => ({ name, description: (product.metrics as Record<string, { description?: string }>)[name]?.description }));
    return table(ctx, schema, object.name, { schema: schemaFacet([...dimensions, ...metrics]) });
  });
}

function syncDatasets(product: Product, target: Omit<ReverseEtlTarget, 'key'>, ctx: NamingContext): LineageDataset[] {
  const byName = new Map(product.contract.columns.map((c) => [c.name, c] as const));
  const fields = Object.entries(target.mapping).map(([field, column]) => {
    const source = byName.get(column);
    return { name: field, ...(source && { type: source.type, description: source.description ?? `from ${column}` }) };
  });
  const facets = { schema: schemaFacet(fields) };
  const place = syncPlace(ctx.env, product.name, target.name, target.destination);
  if (place.kind === 'standin') return [table(ctx, place.table.schema, place.table.name, facets)];
  const destination = place.destination;
  if (destination.type === 'postgres') {
    let url: string;
    try {
      url = resolveSecret(destination.url, `the lineage of ${product.name}`, ctx.variables);
    } catch {
      return []; // the variable is not set here: the sync itself fails and says so; lineage names no guess
    }
    const location = postgresLocation(url);
    return [{ namespace: location.namespace, name: `${location.database}.${destination.table}`, facets }];
  }
  const url = new URL(destination.type === 'http' ? destination.url : (destination.baseUrl ?? HUBSPOT_API));
  const name = destination.type === 'http' ? url.pathname : `${url.pathname.replace(/\/+$/, '')}/crm/v3/objects/${destination.objectType}`;
  return [{ namespace: url.origin, name, facets }];
}

/** The datasets one target writes in this environment. */
export function targetDatasets(product: Product, target: Target, ctx: NamingContext): LineageDataset[] {
  switch (target.kind) {
    case 'files':
      return filesDatasets(product, target, ctx);
    case 'share':
      return shareDatasets(product, target, ctx);
    case 'dashboard':
      return dashboardDatasets(product, target, ctx);
    case 'reverseEtl':
      return syncDatasets(product, target, ctx);
  }
}
