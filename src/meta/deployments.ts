/** The deployments ledger (`lastmile.deployments`) in the metadata store: append-only rows, read as of any row. */
import type pg from 'pg';
import { clampLimit } from './limit.js';
import type { DeploymentInput, DeploymentRecord, JsonValue } from './types.js';

interface DeploymentRow {
  deployment_id: string;
  env: string;
  product: string;
  version: string;
  git_sha: string | null;
  deployed_at: Date;
  manifest: JsonValue;
}

const DEPLOYMENT_COLUMNS = `deployment_id, env, product, version, git_sha, deployed_at, manifest`;

function toDeployment(row: DeploymentRow): DeploymentRecord {
  return {
    deploymentId: Number(row.deployment_id),
    env: row.env,
    product: row.product,
    version: row.version,
    gitSha: row.git_sha,
    deployedAt: row.deployed_at,
    manifest: row.manifest,
  };
}


export interface DeploymentLedger {
  /** Records a deployment unless the latest one of this product in this env is identical (`recorded` false). */
  recordDeployment(input: DeploymentInput): Promise<{ recorded: boolean; deployment: DeploymentRecord }>;
  latestDeployment(env: string, product: string): Promise<DeploymentRecord | undefined>;
  /** The latest deployment of every product ever deployed to `env` (removals included), by product name. */
  latestDeployments(env: string): Promise<DeploymentRecord[]>;
  /** Each product's latest deployment in `env` up to and including row `deploymentId` (the ledger as it stood then). */
  deploymentsAsOf(env: string, deploymentId: number): Promise<DeploymentRecord[]>;
  listDeployments(query?: { env?: string; product?: string; limit?: number }): Promise<DeploymentRecord[]>;
}

export function deploymentMethods(pool: pg.Pool): DeploymentLedger {
  async function latestDeployment(env: string, product: string): Promise<DeploymentRecord | undefined> {
    const result = await pool.query<DeploymentRow>(
      `select ${DEPLOYMENT_COLUMNS} from lastmile.deployments where env = $1 and product = $2
       order by deployed_at desc, deployment_id desc limit 1`,
      [env, product],
    );
    const row = result.rows[0];
    return row ? toDeployment(row) : undefined;
  }
  return {
    async recordDeployment(input) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        // Serialises deployments of one product in one env, so two identical retries record one row.
        await client.query(`select pg_advisory_xact_lock(hashtextextended('lastmile.deploy/' || $1 || '/' || $2, 0))`, [input.env, input.product]);
        const latest = await client.query<DeploymentRow>(
          `select ${DEPLOYMENT_COLUMNS} from lastmile.deployments where env = $1 and product = $2
            order by deployed_at desc, deployment_id desc limit 1`,
          [input.env, input.product],
        );
        const same = await client.query<{ same: boolean }>(
          `select $1::text = $2::text and $3::text is not distinct from $4::text and $5::jsonb = $6::jsonb as same`,
          [
            latest.rows[0]?.version ?? null,
            input.version,
            latest.rows[0]?.git_sha ?? null,
            input.gitSha ?? null,
            latest.rows[0] ? JSON.stringify(latest.rows[0].manifest) : null,
            JSON.stringify(input.manifest ?? {}),
          ],
        );
        const previous = latest.rows[0];
        if (previous && same.rows[0]?.same) {
          await client.query('commit');
          return { recorded: false, deployment: toDeployment(previous) };
        }
        const inserted = await client.query<DeploymentRow>(
          `insert into lastmile.deployments (env, product, version, git_sha, deployed_at, manifest)
           values ($1, $2, $3, $4, coalesce($5::timestamptz, now()), $6::jsonb)
           returning ${DEPLOYMENT_COLUMNS}`,
          [input.env, input.product, input.version, input.gitSha ?? null, input.deployedAt ?? null, JSON.stringify(input.manifest ?? {})],
        );
        await client.query('commit');
        const row = inserted.rows[0];
        if (!row) throw new Error(`Recording the deployment of ${input.product} to ${input.env} returned no row.`);
        return { recorded: true, deployment: toDeployment(row) };
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },

    latestDeployment,

    async deploymentsAsOf(env, deploymentId) {
      const result = await pool.query<DeploymentRow>(
        `select distinct on (product) ${DEPLOYMENT_COLUMNS} from lastmile.deployments where env = $1 and deployment_id <= $2
          order by product, deployment_id desc`,
        [env, deploymentId],
      );
      return result.rows.map(toDeployment);
    },

    async latestDeployments(env) {
      const result = await pool.query<DeploymentRow>(
        `select distinct on (product) ${DEPLOYMENT_COLUMNS} from lastmile.deployments where env = $1
          order by product, deployed_at desc, deployment_id desc`,
        [env],
      );
      return result.rows.map(toDeployment);
    },

    async listDeployments(query = {}) {
      const result = await pool.query<DeploymentRow>(
        `select ${DEPLOYMENT_COLUMNS} from lastmile.deployments
          where ($1::text is null or env = $1) and ($2::text is null or product = $2)
          order by deployed_at desc, deployment_id desc
          limit $3`,
        [query.env ?? null, query.product ?? null, clampLimit(query.limit, 50)],
      );
      return result.rows.map(toDeployment);
    },
  };
}
