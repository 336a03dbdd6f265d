import { ApplicationFailure, Context } from '@temporalio/activity';
import type { CompiledQuery } from '../../src/checks/index.js';
import type { Destination } from '../../src/files/destination.js';
import { filesTargetOf, targetDestination } from '../../src/files/target-destination.js';
import { exportRows, fileExtension, type Compression } from '../../src/files/formats/index.js';
import type { Manifest } from '../../src/files/manifest.js';
import { applyRetention, cleanupIncomplete, consumerLinks, movePointer, verifyVersion, versionPrefix, writeManifest } from '../../src/files/publish.js';
import { durationMs } from '../../src/time/duration.js';
import { quoteIdent } from '../../src/warehouse/quote.js';
import type { Product } from '../../src/product/model.js';
import type { FilesTarget } from '../../src/product/targets.js';
import type { ServingContext } from '../../src/runtime/serving-context.js';
import type { ExportedFile, ExportPlan, PartitionPlan, ServeTargetInput } from '../../workflows/types.js';
import { withHeartbeat } from '../core/heartbeat.js';
import { inputError, productOf } from '../core/products.js';

const DEFAULT_FILE_NAME = '{product}-{partition}.{ext}';
const DEFAULT_LINK_EXPIRY = '7d';

function filesTarget(product: Product, name: string): FilesTarget {
  try {
    return filesTargetOf(product, name);
  } catch (error) {
    throw inputError((error as Error).message);
  }
}

function compressionOf(target: FilesTarget): Compression {
  return target.compression ?? (target.format === 'parquet' ? 'snappy' : 'none');
}

function destinationOf(ctx: ServingContext, target: FilesTarget, product: Product): Destination {
  return targetDestination(product, target, ctx.root);
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

/** The rows of one partition: the served query, restricted. */
function partitionQuery(served: CompiledQuery, columns: readonly string[], product: Product, partition: PartitionPlan, splitBy?: string): CompiledQuery {
  const select = columns.map((c) => `s.${quoteIdent(c)}`).join(', ');
  const base = `select ${select} from (${served.text}) as s`;
  const filter = partition.filter;
  if (filter.kind === 'value') {
    const column = `s.${quoteIdent(splitBy!)}`;
    if (filter.value === null) return { text: `${base} where ${column} is null`, values: served.values };
    return { text: `${base} where ${column}::text = $${served.values.length + 1}::text`, values: [...served.values, filter.value] };
  }
  if (filter.kind === 'rows') {
    const key = (product.contract.key.length > 0 ? product.contract.key : product.contract.columns.map((c) => c.name)).map((c) => `s.${quoteIdent(c)}`);
    return { text: `${base} order by ${key.join(', ')} limit ${filter.limit} offset ${filter.offset}`, values: served.values };
  }
  return { text: base, values: served.values };
}

/** The activities of the `fileExchange` workflow. Each may run more than once; each is idempotent. */
export function createFileActivities(ctx: ServingContext) {
  const setting = (input: ServeTargetInput) => {
    const product = productOf(ctx, input.product);
    const target = filesTarget(product, input.target);
    const columns = target.columns ?? product.contract.columns.map((c) => c.name);
    return { product, target, columns };
  };

  return {
    /** Decides the files of this run: one, one per value of `splitBy`, or one per `rowsPerFile` rows. */
    async planExport(input: ServeTargetInput): Promise<ExportPlan> {
      const { product, target } = setting(input);
      const warehouse = await ctx.warehouse(input.env);
      const served = await ctx.servedQuery(product.name, input.env);
      const ext = fileExtension(target.format, compressionOf(target));
      const date = new Date().toISOString().slice(0, 10);
      const name = (partition: string, part: number) =>
        fileName(target.fileName ?? DEFAULT_FILE_NAME, { product: product.name, target: target.name, partition, part: String(part), date, ext });
      let partitions: PartitionPlan[];
      if (target.splitBy) {
        const { rows } = await warehouse.pool.query<{ v: string | null }>({
          text: `select distinct s.${quoteIdent(target.splitBy)}::text as v from (${served.text}) as s order by 1`,
          values: served.values as unknown[],
        });
        partitions = rows.map((r, i) => ({ id: r.v ?? 'null', file: name(safePart(r.v), i + 1), filter: { kind: 'value', value: r.v } }));
      } else if (target.rowsPerFile) {
        const { rows } = await warehouse.pool.query<{ n: string }>({ text: `select count(*) as n from (${served.text}) as s`, values: served.values as unknown[] });
        const total = Number(rows[0]?.n ?? 0);
        const parts = Math.max(1, Math.ceil(total / target.rowsPerFile));
        partitions = Array.from({ length: parts }, (_, i) => ({
          id: String(i + 1),
          file: name(String(i + 1).padStart(String(parts).length, '0'), i + 1),
          filter: { kind: 'rows', offset: i * target.rowsPerFile!, limit: target.rowsPerFile! },
        }));
      } else {
        partitions = [{ id: 'all', file: name('all', 1), filter: { kind: 'all' } }];
      }
      const names = new Set(partitions.map((p) => p.file));
      if (names.size !== partitions.length) {
        throw inputError(`files target ${target.name} of ${product.name}: its fileName '${target.fileName}' gives two partitions the same name; add {partition}`);
      }
      // an earlier attempt of this run's target may have left files behind that were never published
      const destination = destinationOf(ctx, target, product);
      await cleanupIncomplete(destination, input.runId);
      return { destination: destination.description, partitions };
    },

    /** Writes one partition's file, heartbeating rows and bytes; an interrupted attempt leaves no object behind. */
    async exportPartition(input: ServeTargetInput & { partition: PartitionPlan }): Promise<ExportedFile> {
      const { product, target, columns } = setting(input);
      const warehouse = await ctx.warehouse(input.env);
      const served = await ctx.servedQuery(product.name, input.env);
      const activity = Context.current();
      const destination = destinationOf(ctx, target, product);
      const key = `${versionPrefix(input.runId)}${input.partition.file}`;
      const upload = destination.write(key);
      const byName = new Map(product.contract.columns.map((c) => [c.name, c] as const));
      let progress = { rows: 0, bytes: 0 };
      try {
        const result = await withHeartbeat(exportRows({
          pool: warehouse.pool,
          query: partitionQuery(served, columns, product, input.partition, target.splitBy),
          columns: columns.map((name) => ({ name, type: byName.get(name)!.type })),
          format: target.format,
          compression: compressionOf(target),
          sink: upload.stream,
          onProgress: (p: { rows: number; bytes: number }) => {
            progress = p;
            activity.heartbeat(p);
          },
          signal: activity.cancellationSignal,
        }), () => progress);
        const info = await upload.done();
        return { key: info.key, partition: input.partition.id, rows: result.rows, bytes: result.bytes, sha256: result.sha256 };
      } catch (error) {
        await upload.abort().catch(() => undefined);
        throw error;
      }
    },

    /** Writes the manifest, verifies every file against it, moves `_latest.json`, and records the files. */
    async publishVersion(input: ServeTargetInput & { files: ExportedFile[] }): Promise<{ version: string; consumers: number }> {
      const { product, target, columns } = setting(input);
      const warehouse = await ctx.warehouse(input.env);
      const destination = destinationOf(ctx, target, product);
      const run = await warehouse.meta.getRun(input.runId);
      const byName = new Map(product.contract.columns.map((c) => [c.name, c] as const));
      const manifest: Manifest = {
        product: product.name,
        version: product.version,
        gitSha: run?.gitSha ?? null,
        target: target.name,
        runId: input.runId,
        createdAt: new Date().toISOString(),
        schema: columns.map((name) => ({ name, type: byName.get(name)!.type })),
        format: target.format,
        compression: compressionOf(target),
        files: input.files.map((f) => ({ key: f.key, rows: f.rows, bytes: f.bytes, sha256: f.sha256, partition: f.partition })),
        rows: input.files.reduce((sum, f) => sum + f.rows, 0),
        bytes: input.files.reduce((sum, f) => sum + f.bytes, 0),
        checks: input.checks
          ? {
              passed: input.checks.passed,
              failed: input.checks.failed,
              errors: input.checks.errors,
              defectFreeFraction: input.checks.defectFreeFraction,
              quarantined: input.checks.quarantined,
              results: input.checks.checks,
            }
          : null,
      };
      // every partition is written: what is left of attempts that were killed mid-write can go
      await destination.sweep(versionPrefix(input.runId));
      await writeManifest(destination, manifest);
      const verified = await verifyVersion(destination, input.runId);
      if (!verified.ok) {
        throw ApplicationFailure.nonRetryable(
          `version v=${input.runId} of ${product.name} in ${destination.description} does not match its manifest: ${verified.problems.join('; ')}`,
          'LastmileVerifyError',
        );
      }
      await movePointer(destination, input.runId);
      let links: Record<string, { key: string; url: string; expiresAt: string }[]> | undefined;
      if (target.consumers && destination.presign) {
        links = await consumerLinks(destination, input.runId, [...target.consumers], durationMs(target.linkExpiry ?? DEFAULT_LINK_EXPIRY) / 1000);
      }
      for (const file of input.files) {
        await warehouse.pool.query(
          `insert into lastmile.file_manifests (run_id, product, env, target, path, format, rows, bytes, sha256, published, detail)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, true, $10::jsonb)
           on conflict (run_id, target, path) do update set rows = excluded.rows, bytes = excluded.bytes, sha256 = excluded.sha256,
             published = true, detail = excluded.detail`,
          [input.runId, product.name, input.env, target.name, file.key, target.format, file.rows, file.bytes, file.sha256,
            JSON.stringify({
              partition: file.partition,
              destination: destination.description,
              // each consumer's download link of this file (a bearer link: hand it to that consumer only)
              ...(links && { links: Object.fromEntries(Object.entries(links).map(([consumer, list]) => [consumer, list.find((l) => l.key === file.key) ?? null])) }),
            })],
        );
      }
      return { version: versionPrefix(input.runId).replace(/\/$/, ''), consumers: links ? Object.keys(links).length : 0 };
    },

    /** Deletes versions the target's retention no longer keeps (never the current one); returns their run ids. */
    async applyRetention(input: ServeTargetInput): Promise<string[]> {
      const { product, target } = setting(input);
      if (!target.retention) return [];
      return await applyRetention(destinationOf(ctx, target, product), target.retention, new Date());
    },
  };
}

export type FileActivities = ReturnType<typeof createFileActivities>;
