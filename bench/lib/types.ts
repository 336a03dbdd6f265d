/**
 * The contract between `bench/run.ts` and a benchmark module `bench/<name>.ts`.
 *
 * A benchmark module exports `run(options: BenchOptions): Promise<BenchResult[]>` and, optionally, a one-line
 * `description` string that the runner shows in its list. Progress and diagnostics go to `options.log` (stderr);
 * only the returned results reach stdout.
 */

export interface BenchResult {
  /** benchmark name; the runner fills in the module's name when omitted */
  bench?: string;
  /** what was measured, e.g. `c10.p99_latency` */
  metric: string;
  value: number;
  /** e.g. `ms`, `workflows/s` */
  unit: string;
  /** the target this figure is judged against, or null when there is none */
  baseline?: number | null;
  /**
   * How the figure compares with its baseline, ≥ 1 meaning the target is met. Computed by the runner from `better`
   * when the benchmark leaves it out: value/baseline for `higher`, baseline/value for `lower`.
   */
  ratio?: number | null;
  /** which direction is better (default `higher`); used to compute `ratio` */
  better?: 'higher' | 'lower';
}

export interface BenchOptions {
  /** `--quick`: smaller totals, for a fast sanity run */
  quick: boolean;
  /** every `--flag` / `--flag=value` given on the command line (`json` and `quick` included) */
  flags: Record<string, string | boolean>;
  /** progress and diagnostics, to stderr */
  log: (line: string) => void;
}

export type BenchModule = {
  run(options: BenchOptions): Promise<BenchResult[]>;
  description?: string;
};

/** A numeric flag (`--name=N`), or `fallback`. Throws on a value that is not a number. */
export function numberFlag(options: BenchOptions, name: string, fallback: number): number {
  const raw = options.flags[name];
  if (raw === undefined || raw === false) return fallback;
  const value = Number(raw);
  if (raw === true || !Number.isFinite(value)) throw new Error(`--${name} needs a number (--${name}=N)`);
  return value;
}

/** A string flag (`--name=value`), or `fallback`. */
export function stringFlag(options: BenchOptions, name: string, fallback: string): string {
  const raw = options.flags[name];
  return typeof raw === 'string' ? raw : fallback;
}
