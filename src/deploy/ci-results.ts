/** Test results CI records per git commit (`lastmile ci-record`), read by the promotion gate. */
import type pg from 'pg';
import { deployer } from './ledger.js';

export type CiStatus = 'passed' | 'failed';

export interface CiResult {
  gitSha: string;
  suite: string;
  status: CiStatus;
  detail: string | null;
  recordedBy: string | null;
  recordedAt: Date;
}

export async function recordCiResult(pool: pg.Pool, input: { gitSha: string; suite: string; status: CiStatus; detail?: string }): Promise<CiResult> {
  const result = await pool.query<{ git_sha: string; suite: string; status: CiStatus; detail: string | null; recorded_by: string | null; recorded_at: Date }>(
    `insert into lastmile.ci_results (git_sha, suite, status, detail, recorded_by) values ($1, $2, $3, $4, $5)
     returning git_sha, suite, status, detail, recorded_by, recorded_at`,
    [input.gitSha, input.suite, input.status, input.detail ?? null, deployer()],
  );
  const row = result.rows[0]!;
  return { gitSha: row.git_sha, suite: row.suite, status: row.status, detail: row.detail, recordedBy: row.recorded_by, recordedAt: row.recorded_at };
}

/** The latest result of `suite` at `gitSha`, if CI recorded one. */
export async function latestCiResult(pool: pg.Pool, gitSha: string, suite: string): Promise<CiResult | undefined> {
  const result = await pool.query<{ git_sha: string; suite: string; status: CiStatus; detail: string | null; recorded_by: string | null; recorded_at: Date }>(
    `select git_sha, suite, status, detail, recorded_by, recorded_at from lastmile.ci_results
      where git_sha = $1 and suite = $2 order by recorded_at desc, result_id desc limit 1`,
    [gitSha, suite],
  );
  const row = result.rows[0];
  return row && { gitSha: row.git_sha, suite: row.suite, status: row.status, detail: row.detail, recordedBy: row.recorded_by, recordedAt: row.recorded_at };
}
