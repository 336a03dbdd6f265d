/** Timing queries the way a consumer runs them: one untimed warm-up, then `samples` timed runs each. */
import type pg from 'pg';

/** p50 / p95 of one query, in milliseconds. */
export interface QueryTiming {
  p50Ms: number;
  p95Ms: number;
  samples: number;
}

/** The q-quantile (0–1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** Times each named query on one connection; `onSample` is called after every timed run (for heartbeats). */
export async function timeQueries(
  pool: pg.Pool,
  queries: Readonly<Record<string, string>>,
  samples: number,
  onSample: (query: string, sample: number) => void = () => undefined,
): Promise<Record<string, QueryTiming>> {
  const timings: Record<string, QueryTiming> = {};
  const client = await pool.connect();
  try {
    for (const [name, text] of Object.entries(queries)) {
      await client.query(text);
      const times: number[] = [];
      for (let i = 0; i < samples; i++) {
        const started = performance.now();
        await client.query(text);
        times.push(performance.now() - started);
        onSample(name, i + 1);
      }
      times.sort((a, b) => a - b);
      timings[name] = { p50Ms: round(quantile(times, 0.5)), p95Ms: round(quantile(times, 0.95)), samples };
    }
  } finally {
    client.release();
  }
  return timings;
}
