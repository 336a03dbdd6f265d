/**
 * File export: lastmile's `exportRows` against psql's `\copy` for a 10-million-row query, and the peak memory of
 * the export.
 *
 * Setup: a throwaway embedded Postgres and one query built on generate_series — 8 columns the way an orders extract
 * looks: a bigint id, a code, a status, a nullable customer name holding a comma (so csv quotes it), a numeric(12,2)
 * amount, a timestamptz, a nullable date and a boolean. No table: Postgres computes the rows for each run, the same
 * work for both sides.
 *
 * What is measured, best of `--runs` (default 1), the variants taking turns within each run:
 *   - psql: `psql -c "\copy (<query>) to '<file>' with (format csv, header true)"` (PGTZ=UTC, so its bytes are
 *     lastmile's: the two files must have the same SHA-256, checked), wall time of the psql process.
 *   - lastmile csv, jsonl and parquet (snappy): `exportRows` into a local file, in a CHILD process (this file run
 *     with `--export-child`) so that its peak RSS (VmHWM from /proc/self/status, read after the export) is the
 *     export's alone; the time is the `exportRows` call. The child's RSS before the export (Node, the loader and the
 *     imports) is logged too.
 *
 * Results (`--json`, one line each): `psql.rows_per_s`, `psql.mb_per_s`, `csv.rows_per_s`, `csv.mb_per_s`,
 * `csv.vs_psql` (x, baseline 0.8: the issue's target), `csv.peak_rss_mb` (baseline 200, lower is
 * better), the same three for `jsonl.` and `parquet.` (rows/s, MB/s of the file written, peak RSS), `rows`.
 *
 * Flags: --rows=N (default 10,000,000; --quick 1,000,000), --runs=N (default 1), --formats=csv,jsonl,parquet
 * (lastmile formats to run; csv always runs against psql; xlsx only up to 1,048,575 rows), --heap-mb=N (run the
 * export children with --max-old-space-size=N: how much of the peak RSS is V8 letting garbage pile up),
 * --data-dir=DIR (parent folder of the cluster and the files), --keep (keep the files), --verbose (server log).
 */
import { execFile, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { exportRows, XLSX_MAX_DATA_ROWS, type ExportColumn, type FileFormat } from '../src/files/formats/index.js';
import { startEmbeddedPostgres } from '../src/warehouse/embedded.js';
import { numberFlag, stringFlag, type BenchOptions, type BenchResult } from './lib/types.js';

export const description = '10M-row query exported to csv by lastmile vs psql \\copy (throughput, peak RSS); jsonl and parquet too';

const THIS_FILE = fileURLToPath(import.meta.url);
const TARGET_VS_PSQL = 0.8;
const TARGET_RSS_MB = 200;

const COLUMNS: readonly ExportColumn[] = [
  { name: 'order_id', type: 'bigint' },
  { name: 'order_code', type: 'text' },
  { name: 'status', type: 'text' },
  { name: 'customer', type: 'text' },
  { name: 'amount', type: 'numeric(12,2)' },
  { name: 'created_at', type: 'timestamptz' },
  { name: 'ship_date', type: 'date' },
  { name: 'gift', type: 'boolean' },
];

/** One line: psql's `\copy` takes the rest of its line. */
function exportQuery(rows: number): string {
  return [
    'select i::bigint as order_id,',
    "'ORD-' || lpad(i::text, 10, '0') as order_code,",
    "(array['placed','shipped','delivered','cancelled'])[1 + i % 4] as status,",
    "case when i % 10 = 0 then null else 'Runner ' || (i % 50000) || ', Berlin' end as customer,",
    '(((i * 37) % 2000000) / 100.0)::numeric(12,2) as amount,',
    "timestamptz '2025-01-01 00:00:00+00' + (i % 31536000) * interval '1 second' + (i % 1000) * interval '1 millisecond' as created_at,",
    "case when i % 7 = 0 then null else date '2025-01-01' + (i % 365)::int end as ship_date,",
    '(i % 3 = 0) as gift',
    `from generate_series(1, ${rows}) as i`,
  ].join(' ');
}

interface ChildSpec {
  url: string;
  text: string;
  format: FileFormat;
  file: string;
}

interface ChildReport {
  rows: number;
  bytes: number;
  sha256: string;
  ms: number;
  rssBeforeKb: number;
  peakRssKb: number;
}

function vmHwmKb(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) : process.resourceUsage().maxRSS;
}

/** The child: one export, then its figures to the parent. */
async function child(spec: ChildSpec): Promise<void> {
  const pool = new pg.Pool({ connectionString: spec.url, max: 2 });
  pool.on('error', () => undefined);
  try {
    const rssBeforeKb = vmHwmKb();
    const started = performance.now();
    const result = await exportRows({ pool, query: { text: spec.text, values: [] }, columns: COLUMNS, format: spec.format, sink: createWriteStream(spec.file) });
    const ms = performance.now() - started;
    const report: ChildReport = { ...result, ms, rssBeforeKb, peakRssKb: vmHwmKb() };
    await new Promise<void>((resolve, reject) => process.send!(report, (error: Error | null) => (error ? reject(error) : resolve())));
  } finally {
    await pool.end();
  }
}

function runChild(spec: ChildSpec, heapMb: number | undefined): Promise<ChildReport> {
  const execArgv = heapMb === undefined ? process.execArgv : [...process.execArgv, `--max-old-space-size=${heapMb}`];
  return new Promise((resolve, reject) => {
    const proc = fork(THIS_FILE, ['--export-child', JSON.stringify(spec)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let report: ChildReport | undefined;
    proc.on('message', (message) => {
      report = message as ChildReport;
    });
    proc.on('error', reject);
    proc.on('exit', (code) => (report && code === 0 ? resolve(report) : reject(new Error(`export child (${spec.format}) exited with code ${code}`))));
  });
}

function runPsql(url: string, text: string, file: string): Promise<number> {
  const command = `\\copy (${text}) to '${file.replace(/'/g, "''")}' with (format csv, header true)`;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    execFile('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', command], { env: { ...process.env, PGTZ: 'UTC' } }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`psql failed: ${stderr || error.message}`));
      else resolve(performance.now() - started);
    });
  });
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const MB = 1024 * 1024;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

interface Best {
  ms: number;
  bytes: number;
  peakRssKb: number;
  rssBeforeKb: number;
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const { log } = options;
  const rows = numberFlag(options, 'rows', options.quick ? 1_000_000 : 10_000_000);
  const runs = numberFlag(options, 'runs', 1);
  const formats = stringFlag(options, 'formats', 'csv,jsonl,parquet').split(',').map((f) => f.trim()) as FileFormat[];
  if (!Number.isInteger(rows) || rows < 1) throw new Error('--rows takes a positive integer');
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
  for (const f of formats) if (!['csv', 'jsonl', 'parquet', 'xlsx'].includes(f)) throw new Error(`--formats: unknown format ${f}`);
  if (formats.includes('xlsx') && rows > XLSX_MAX_DATA_ROWS) throw new Error(`--formats=xlsx needs --rows of at most ${XLSX_MAX_DATA_ROWS} (one sheet)`);
  const heapMb = options.flags['heap-mb'] === undefined ? undefined : numberFlag(options, 'heap-mb', 0);
  if (!formats.includes('csv')) formats.unshift('csv');

  const dir = await mkdtemp(path.join(stringFlag(options, 'data-dir', os.tmpdir()), 'lastmile-bench-export-'));
  const server = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    ephemeral: true,
    ...(options.flags.verbose === true && { onLog: (line: string) => log(`  pg: ${line.trim()}`) }),
  });
  try {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    const version = await client.query<{ v: string }>('select version() as v');
    await client.end();
    log(`postgres: ${version.rows[0]!.v.split(' on ')[0]}; psql: ${await new Promise<string>((r) => execFile('psql', ['--version'], (_e, out) => r(out.trim())))}`);
    const text = exportQuery(rows);
    log(`query: ${rows.toLocaleString('en-US')} rows × ${COLUMNS.length} columns (generate_series)${heapMb ? `; export children run with --max-old-space-size=${heapMb}` : ''}`);

    let psql: Best | undefined;
    const best = new Map<FileFormat, Best>();
    for (let round = 1; round <= runs; round++) {
      const psqlFile = path.join(dir, 'psql.csv');
      const psqlMs = await runPsql(server.url, text, psqlFile);
      const psqlBytes = statSync(psqlFile).size;
      log(`run ${round}: psql \\copy ${fmt(psqlMs)} ms, ${(psqlBytes / MB).toFixed(1)} MB, ${fmt((rows / psqlMs) * 1000)} rows/s`);
      if (!psql || psqlMs < psql.ms) psql = { ms: psqlMs, bytes: psqlBytes, peakRssKb: 0, rssBeforeKb: 0 };
      for (const format of formats) {
        const file = path.join(dir, `lastmile.${format}`);
        const report = await runChild({ url: server.url, text, format, file }, heapMb);
        if (report.rows !== rows) throw new Error(`${format}: exported ${report.rows} rows, expected ${rows}`);
        log(
          `run ${round}: lastmile ${format} ${fmt(report.ms)} ms, ${(report.bytes / MB).toFixed(1)} MB, ${fmt((rows / report.ms) * 1000)} rows/s, ` +
            `peak RSS ${(report.peakRssKb / 1024).toFixed(0)} MB (${(report.rssBeforeKb / 1024).toFixed(0)} MB before the export)`,
        );
        if (format === 'csv') {
          const theirs = await sha256(psqlFile);
          if (theirs !== report.sha256) throw new Error(`lastmile's csv differs from psql's (sha256 ${report.sha256} vs ${theirs})`);
          if (round === 1) log('csv: byte-identical to psql\'s output (same sha256)');
        }
        const previous = best.get(format);
        best.set(format, {
          ms: Math.min(previous?.ms ?? Infinity, report.ms),
          bytes: report.bytes,
          peakRssKb: Math.max(previous?.peakRssKb ?? 0, report.peakRssKb),
          rssBeforeKb: report.rssBeforeKb,
        });
        if (options.flags.keep !== true) await rm(file, { force: true });
      }
      if (options.flags.keep !== true) await rm(psqlFile, { force: true });
    }

    const rate = (b: Best) => ({ rowsPerS: (rows / b.ms) * 1000, mbPerS: b.bytes / MB / (b.ms / 1000) });
    const p = rate(psql!);
    const results: BenchResult[] = [
      { metric: 'psql.rows_per_s', value: p.rowsPerS, unit: 'rows/s' },
      { metric: 'psql.mb_per_s', value: p.mbPerS, unit: 'MB/s' },
    ];
    for (const [format, b] of best) {
      const r = rate(b);
      if (format === 'csv') {
        results.push(
          { metric: 'csv.rows_per_s', value: r.rowsPerS, unit: 'rows/s' },
          { metric: 'csv.mb_per_s', value: r.mbPerS, unit: 'MB/s' },
          { metric: 'csv.vs_psql', value: r.rowsPerS / p.rowsPerS, unit: 'x', baseline: TARGET_VS_PSQL },
        );
      } else {
        results.push({ metric: `${format}.rows_per_s`, value: r.rowsPerS, unit: 'rows/s' }, { metric: `${format}.mb_per_s`, value: r.mbPerS, unit: 'MB/s' });
      }
      results.push({ metric: `${format}.peak_rss_mb`, value: b.peakRssKb / 1024, unit: 'MB', baseline: TARGET_RSS_MB, better: 'lower' });
    }
    results.push({ metric: 'rows', value: rows, unit: 'rows' });
    return results;
  } finally {
    await server.stop();
    if (options.flags.keep !== true) await rm(dir, { recursive: true, force: true });
    else log(`files kept in ${dir}`);
  }
}

if (process.argv[2] === '--export-child') {
  child(JSON.parse(process.argv[3]!) as ChildSpec).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`export child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
