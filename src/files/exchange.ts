/**
 * The steps of a files target's run (the `fileExchange` workflow calls them as activities): plan the partitions, write
 * each partition's file, publish the version (manifest, verification, pointer, consumers' links, records), apply
 * retention. Each step may run more than once and is idempotent.
 */
import type pg from 'pg';
import type { CompiledQuery } from '../checks/index.js';
import { InputError } from '../errors.js';
import { recordPublishedFiles } from '../meta/file-manifests.js';
import type { Product } from '../product/model.js';
import type { FilesTarget } from '../product/targets.js';
import { durationMs } from '../time/duration.js';
import { quoteIdent } from '../warehouse/quote.js';
import type { CheckOutcome, ExportedFile, PartitionPlan } from '../../workflows/types.js';
import type { Destination } from './destination.js';
import type { Compression } from './formats/index.js';
import type { ExportColumn } from './formats/types.js';
import type { Manifest } from './manifest.js';
import { assertOwnPlace, cleanupIncomplete, consumerLinks, movePointer, verifyVersion, versionPrefix, writeManifest } from './publish.js';
import { filesTargetOf } from './target-destination.js';

const DEFAULT_FILE_NAME = '{product}-{partition}.{ext}';
const DEFAULT_LINK_EXPIRY = '7d';

/** A files target of a product with the columns it serves. */
export interface Exchange {
  product: Product;
  target: FilesTarget;
  columns: readonly string[];
}

/** The exchange of target `name`; an input error when the product has no such files target. */
export function exchangeOf(product: Product, name: string): Exchange {
  let target: FilesTarget;
  try {
    target = filesTargetOf(product, name);
  } catch (error) {
    throw new InputError((error as Error).message);
  }
  return { product, target, columns: target.columns ?? product.contract.columns.map((c) => c.name) };
}

export function compressionOf(target: FilesTarget): Compression {
  return target.compression ?? (target.format === 'parquet' ? 'snappy' : 'none');
}

/** The format writers (Parquet, xlsx, …: a hundred-odd modules), loaded when a files target first runs. */
function formats(): Promise<typeof import('./formats/index.js')> {
  return import('./formats/index.js');
}

/** A partition value as it may appear in a file name. */
function safePart(value: string | null): string {
  if (value === null) return 'null';
  const cleaned = value.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_').slice(0, 100);
  return cleaned === '' ? '_' : cleaned;
}

function fileName(template: string, fields: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => fields[name] ?? '');
}

/**
 * The files of this run: one, one per value of `splitBy`, or one per `rowsPerFile` rows. Removes what an earlier
 * attempt of the run left behind unpublished.
 */
export async function planPartitions(
  pool: pg.Pool,
  served: CompiledQuery,
  exchange: Exchange,
  destination: Destination,
  runId: string,
  env: string,
  now: Date,
): Promise<PartitionPlan[]> {
  const { product, target } = exchange;
  const { fileExtension } = await formats();
  const ext = fileExtension(target.format, compressionOf(target));
  const date = now.toISOString().slice(0, 10);
  const name = (partition: string, part: number) =>
    fileName(target.fileName ?? DEFAULT_FILE_NAME, { product: product.name, target: target.name, partition, part: String(part), date, ext });
  let partitions: PartitionPlan[];
  if (target.splitBy) {
    const { rows } = await pool.query<{ v: string | null }>({
      text: `select distinct s.${quoteIdent(target.splitBy)}::text as v from (${served.text}) as s order by 1`,
      values: served.values as unknown[],
    });
    partitions = rows.map((r, i) => ({ id: r.v ?? 'null', file: name(safePart(r.v), i + 1), filter: { kind: 'value', value: r.v } }));
  } else if (target.rowsPerFile) {
    const rowsPerFile = target.rowsPerFile;
    const { rows } = await pool.query<{ n: string }>({ text: `select count(*) as n from (${served.text}) as s`, values: served.values as unknown[] });
    const total = Number(rows[0]?.n ?? 0);
    const parts = Math.max(1, Math.ceil(total / rowsPerFile));
    partitions = Array.from({ length: parts }, (_, i) => ({
      id: String(i + 1),
      file: name(String(i + 1).padStart(String(parts).length, '0'), i + 1),
      filter: { kind: 'rows', offset: i * rowsPerFile, limit: rowsPerFile },
    }));
  } else {
    partitions = [{ id: 'all', file: name('all', 1), filter: { kind: 'all' } }];
  }
  const names = new Set(partitions.map((p) => p.file));
  if (names.size !== partitions.length) {
    throw new InputError(`files target ${target.name} of ${product.name}: its fileName '${target.fileName}' gives two partitions the same name; add {partition}`);
  }
  await assertOwnPlace(destination, env);
  await cleanupIncomplete(destination, runId);
  return partitions;
}

/** The rows of one partition: the served query, restricted, with the target's columns. */
export function partitionQuery(served: CompiledQuery, exchange: Exchange, partition: PartitionPlan): CompiledQuery {
  const { product, target, columns } = exchange;
  const select = columns.map((c) => `s.${quoteIdent(c)}`).join(', ');
  const base = `select ${select} from (${served.text}) as s`;
  const filter = partition.filter;
  if (filter.kind === 'value') {
    const column = `s.${quoteIdent(target.splitBy!)}`;
    if (filter.value === null) return { text: `${base} where ${column} is null`, values: served.values };
    return { text: `${base} where ${column}::text = $${served.values.length + 1}::text`, values: [...served.values, filter.value] };
  }
  if (filter.kind === 'rows') {
    const key = (product.contract.key.length > 0 ? product.contract.key : product.contract.columns.map((c) => c.name)).map((c) => `s.${quoteIdent(c)}`);
    return { text: `${base} order by ${key.join(', ')} limit ${filter.limit} offset ${filter.offset}`, values: served.values };
  }
  return { text: base, values: served.values };
}

function schemaOf(exchange: Exchange): ExportColumn[] {
  const byName = new Map(exchange.product.contract.columns.map((c) => [c.name, c] as const));
  return exchange.columns.map((name) => ({ name, type: byName.get(name)!.type }));
}

/** Writes one partition's file under the run's version; an interrupted write leaves no object behind. */
export async function exportPartition(input: {
  pool: pg.Pool;
  served: CompiledQuery;
  exchange: Exchange;
  destination: Destination;
  runId: string;
  partition: PartitionPlan;
  onProgress: (progress: { rows: number; bytes: number }) => void;
  signal?: AbortSignal;
}): Promise<ExportedFile> {
  const { exchange, destination } = input;
  const { exportRows } = await formats();
  const upload = destination.write(`${versionPrefix(input.runId)}${input.partition.file}`);
  try {
    const result = await exportRows({
      pool: input.pool,
      query: partitionQuery(input.served, exchange, input.partition),
      columns: schemaOf(exchange),
      format: exchange.target.format,
      compression: compressionOf(exchange.target),
      sink: upload.stream,
      onProgress: input.onProgress,
      ...(input.signal && { signal: input.signal }),
    });
    const info = await upload.done();
    return { key: info.key, partition: input.partition.id, rows: result.rows, bytes: result.bytes, sha256: result.sha256 };
  } catch (error) {
    await upload.abort().catch(() => undefined);
    throw error;
  }
}

/** The manifest of a version: what it holds, where it came from, and the checks it passed. */
export function buildManifest(
  exchange: Exchange,
  run: { runId: string; env: string; gitSha: string | null; createdAt: Date },
  files: readonly ExportedFile[],
  checks?: CheckOutcome,
): Manifest {
  const { product, target } = exchange;
  return {
    product: product.name,
    env: run.env,
    version: product.version,
    gitSha: run.gitSha,
    target: target.name,
    runId: run.runId,
    createdAt: run.createdAt.toISOString(),
    schema: schemaOf(exchange),
    format: target.format,
    compression: compressionOf(target),
    files: files.map((f) => ({ key: f.key, rows: f.rows, bytes: f.bytes, sha256: f.sha256, partition: f.partition })),
    rows: files.reduce((sum, f) => sum + f.rows, 0),
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    checks: checks
      ? {
          passed: checks.passed,
          failed: checks.failed,
          errors: checks.errors,
          defectFreeFraction: checks.defectFreeFraction,
          quarantined: checks.quarantined,
          results: checks.checks,
        }
      : null,
  };
}

/** A written version whose files do not match its manifest; it is not published. */
export class VersionMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LastmileVerifyError';
  }
}

/**
 * Publishes a version whose files are all written: sweeps what killed attempts left, writes the manifest, verifies
 * every file against it, moves `_latest.json`, makes the consumers' links and records the files.
 */
export async function publishVersion(input: {
  pool: pg.Pool;
  env: string;
  exchange: Exchange;
  destination: Destination;
  manifest: Manifest;
  files: readonly ExportedFile[];
}): Promise<{ version: string; consumers: number }> {
  const { exchange, destination, manifest } = input;
  const { product, target } = exchange;
  const runId = manifest.runId;
  await destination.sweep(versionPrefix(runId));
  await writeManifest(destination, manifest);
  const verified = await verifyVersion(destination, runId);
  if (!verified.ok) {
    throw new VersionMismatchError(`version v=${runId} of ${product.name} in ${destination.description} does not match its manifest: ${verified.problems.join('; ')}`);
  }
  await movePointer(destination, runId);
  let links: Record<string, { key: string; url: string; expiresAt: string }[]> | undefined;
  if (target.consumers && destination.presign) {
    links = await consumerLinks(destination, runId, [...target.consumers], durationMs(target.linkExpiry ?? DEFAULT_LINK_EXPIRY) / 1000);
  }
  await recordPublishedFiles(
    input.pool,
    input.files.map((file) => ({
      runId,
      product: product.name,
      env: input.env,
      target: target.name,
      path: file.key,
      format: target.format,
      rows: file.rows,
      bytes: file.bytes,
      sha256: file.sha256,
      detail: {
        partition: file.partition,
        destination: destination.description,
        // each consumer's download link of this file (a bearer link: hand it to that consumer only)
        ...(links && { links: Object.fromEntries(Object.entries(links).map(([consumer, list]) => [consumer, list.find((l) => l.key === file.key) ?? null])) }),
      },
    })),
  );
  return { version: versionPrefix(runId).replace(/\/$/, ''), consumers: links ? Object.keys(links).length : 0 };
}
