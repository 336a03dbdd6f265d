/**
 * Benchmark runner: `npm run bench -- <name> [--json] [--quick] [--strict] [--flag=value ...]`.
 *
 * Runs `bench/<name>.ts`, a module exporting `run(options): Promise<BenchResult[]>` (see bench/lib/types.ts), and
 * prints its results: one JSON object per line with `--json`
 * (`{"bench","metric","value","unit","baseline","ratio"}`, baseline/ratio null when there is none), a table
 * otherwise. The machine (cpu, cores, memory, node) and the date go to stderr, as does the benchmark's progress.
 *
 * Flags: bare `--flag` is true, `--flag=value` carries a value (values never come from the next argument, so the
 * benchmark name can stand anywhere). `--strict` makes a missed baseline (ratio < 1) a failure. `--repeat=N` runs the
 * benchmark N times and reports each metric's median (every run's figure goes to stderr). The load of the machine
 * before and after goes to stderr too: other processes on a small machine move these figures a lot.
 * `--wait-quiet[=S]` waits (up to S seconds, default 600) before each run until the machine's CPU pressure is low
 * (Linux PSI); it is the way to get figures on a machine shared with test runs.
 *
 * Exit codes: 0 success, 1 failure (the benchmark threw, returned nothing, or missed a baseline under --strict),
 * 2 usage (no or unknown benchmark name).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadLine, waitForQuiet } from './lib/proc-cpu.js';
import { numberFlag, type BenchModule, type BenchOptions, type BenchResult } from './lib/types.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const NOT_BENCHMARKS = new Set(['run']);

interface Available {
  name: string;
  description: string;
}

/** `bench/*.ts` except the runner itself; the description is read from `export const description = '...'`. */
function available(): Available[] {
  return readdirSync(BENCH_DIR)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => file.slice(0, -3))
    .filter((name) => !NOT_BENCHMARKS.has(name))
    .sort()
    .map((name) => {
      const source = readFileSync(path.join(BENCH_DIR, `${name}.ts`), 'utf8');
      const match = /export const description\s*=\s*(['"`])(.*?)\1/.exec(source);
      return { name, description: match ? match[2] : '' };
    });
}

function parseArgs(argv: string[]): { name: string | undefined; flags: Record<string, string | boolean>; extra: string[] } {
  const flags: Record<string, string | boolean> = {};
  const positional: string[] = [];
  for (const arg of argv) {
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      if (eq > 2) flags[arg.slice(2, eq)] = arg.slice(eq + 1);
      else flags[arg.slice(2)] = true;
    } else {
      positional.push(arg);
    }
  }
  return { name: positional[0], flags, extra: positional.slice(1) };
}

function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() || 'unknown cpu';
  const memGiB = (os.totalmem() / 1024 ** 3).toFixed(1);
  return (
    `machine: ${model}, ${cpus.length} cores (available parallelism ${os.availableParallelism()}), ${memGiB} GiB memory, ` +
    `${os.platform()} ${os.release()} ${os.arch()}, node ${process.version}`
  );
}

function usage(list: Available[], problem?: string): void {
  const out = process.stderr;
  if (problem) out.write(`${problem}\n\n`);
  out.write('usage: npm run bench -- <name> [--json] [--quick] [--strict] [--flag=value ...]\n\navailable benchmarks:\n');
  const width = Math.max(0, ...list.map((b) => b.name.length));
  for (const b of list) out.write(`  ${b.name.padEnd(width)}  ${b.description}\n`);
  if (list.length === 0) out.write('  (none)\n');
}

/** Rounds for printing: 3 significant decimals for small numbers, 2 decimals otherwise. */
function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const digits = Math.abs(value) >= 100 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function normalize(name: string, r: BenchResult): Required<Omit<BenchResult, 'better'>> {
  const baseline = r.baseline ?? null;
  let ratio = r.ratio ?? null;
  if (ratio === null && baseline !== null && Number.isFinite(r.value) && r.value !== 0) {
    ratio = r.better === 'lower' ? baseline / r.value : r.value / baseline;
  }
  return {
    bench: r.bench ?? name,
    metric: r.metric,
    value: round(r.value),
    unit: r.unit,
    baseline,
    ratio: ratio === null ? null : Math.round(ratio * 1000) / 1000,
  };
}

/** With --repeat: per metric, the median of the runs (the runs are logged). */
function medians(runs: BenchResult[][], log: (line: string) => void): BenchResult[] {
  return runs[0].map((first) => {
    const values = runs.map((r) => r.find((x) => x.metric === first.metric && x.bench === first.bench)?.value ?? NaN);
    const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
    const mid = sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    log(`${first.metric}: ${values.map((v) => round(v)).join(', ')} ${first.unit} → median ${round(mid)}`);
    return { ...first, value: mid, ratio: undefined };
  });
}

function table(rows: ReturnType<typeof normalize>[]): string {
  const header = ['bench', 'metric', 'value', 'unit', 'baseline', 'ratio', 'target'];
  const body = rows.map((r) => [
    r.bench,
    r.metric,
    String(r.value),
    r.unit,
    r.baseline === null ? '-' : String(r.baseline),
    r.ratio === null ? '-' : r.ratio.toFixed(2),
    r.ratio === null ? '' : r.ratio >= 1 ? 'met' : 'MISSED',
  ]);
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const numeric = new Set([2, 4, 5]);
  const line = (row: string[]): string =>
    row
      .map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n') + '\n';
}

async function main(): Promise<number> {
  const { name, flags, extra } = parseArgs(process.argv.slice(2));
  const list = available();
  if (flags.help || flags.h) {
    usage(list);
    return 2;
  }
  if (!name) {
    usage(list, 'no benchmark named');
    return 2;
  }
  if (!/^[A-Za-z0-9_-]+$/.test(name) || !list.some((b) => b.name === name) || !existsSync(path.join(BENCH_DIR, `${name}.ts`))) {
    usage(list, `unknown benchmark: ${name}`);
    return 2;
  }
  if (extra.length > 0) {
    usage(list, `unexpected arguments: ${extra.join(' ')} (flags take values as --flag=value)`);
    return 2;
  }

  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const started = new Date();
  log(machine());
  log(`date: ${started.toISOString()}`);
  log(`load before: ${loadLine()}`);
  log(`bench: ${name}${Object.keys(flags).length > 0 ? ` ${Object.entries(flags).map(([k, v]) => (v === true ? `--${k}` : `--${k}=${v}`)).join(' ')}` : ''}`);

  const mod = (await import(pathToFileURL(path.join(BENCH_DIR, `${name}.ts`)).href)) as Partial<BenchModule>;
  if (typeof mod.run !== 'function') {
    log(`bench/${name}.ts does not export run(options)`);
    return 1;
  }
  const options: BenchOptions = { quick: flags.quick === true, flags, log };
  const repeat = numberFlag(options, 'repeat', 1);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat takes a positive integer');
  const runs: BenchResult[][] = [];
  for (let i = 1; i <= repeat; i++) {
    if (repeat > 1) log(`--- run ${i} of ${repeat}`);
    if (flags['wait-quiet']) {
      const maxS = flags['wait-quiet'] === true ? 600 : numberFlag(options, 'wait-quiet', 600);
      const waited = await waitForQuiet(maxS * 1000);
      log(waited === undefined ? `machine not quiet after ${maxS} s (or no CPU pressure data): running anyway` : `machine quiet after ${(waited / 1000).toFixed(0)} s of waiting`);
    }
    const raw = await mod.run(options);
    if (!Array.isArray(raw) || raw.length === 0) {
      log(`bench ${name} returned no results`);
      return 1;
    }
    runs.push(raw);
  }
  log(`load after: ${loadLine()}`);
  const raw = repeat === 1 ? runs[0] : medians(runs, log);
  const rows = raw.map((r) => normalize(name, r));
  if (flags.json) {
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
  } else {
    process.stdout.write(table(rows));
  }
  log(`done in ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s`);
  const missed = rows.filter((r) => r.ratio !== null && r.ratio < 1);
  if (missed.length > 0) {
    log(`missed baseline: ${missed.map((r) => `${r.metric} ${r.value} ${r.unit} (target ${r.baseline}, ratio ${r.ratio})`).join('; ')}`);
    if (flags.strict) return 1;
  }
  return 0;
}

let code: number;
try {
  code = await main();
} catch (error) {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  code = 1;
}
// Native handles (the Temporal core runtime, pools) may outlive a benchmark; the result is what counts.
process.exit(code);
