import type { RunRecord } from '../../meta/types.js';
import type { Project } from '../../runtime/project.js';
import { EXIT } from '../exit-codes.js';
import { duration, table, type Output } from '../output.js';
import { readStore, utc } from './read-store.js';

export interface RunsOptions {
  env: string;
  product?: string;
  limit: number;
}

/** `lastmile runs [--product P] [--limit N]`: the recent runs of an environment, newest first, from the metadata store. */
export async function runsCommand(project: Project, options: RunsOptions, out: Output): Promise<number> {
  return await readStore(project, options.env, async (warehouse, env) => {
    const runs = await warehouse.meta.listRuns({ env: env.name, limit: options.limit, ...(options.product !== undefined && { product: options.product }) });
    if (out.json) {
      out.printJson({ env: env.name, runs });
      return EXIT.ok;
    }
    const scope = options.product === undefined ? '' : ` of ${options.product}`;
    out.print(`environment ${env.name} — ${warehouse.description} — the ${runs.length === 1 ? 'latest run' : `latest ${runs.length} runs`}${scope}, newest first`);
    if (runs.length === 0) {
      out.print(`no runs${scope} recorded in ${env.name} yet: lastmile run <product>${env.name === 'dev' ? ' or lastmile dev' : ''} makes one`);
      return EXIT.ok;
    }
    out.print(
      table(
        ['run id', 'product', 'trigger', 'status', 'rows', 'defect-free', 'started (UTC)', 'took', 'error / reasons'],
        runs.map((run) => [run.runId, run.product, run.trigger, run.status, run.rows, defectFree(run), utc(run.startedAt), took(run), why(run)]),
      ),
    );
    return EXIT.ok;
  });
}

function defectFree(run: RunRecord): string {
  return run.defectRate === null ? '' : `${((1 - run.defectRate) * 100).toFixed(1)} %`;
}

function took(run: RunRecord): string {
  return run.finishedAt ? duration(run.finishedAt.getTime() - run.startedAt.getTime()) : run.status === 'running' ? 'running' : '';
}

function why(run: RunRecord): string {
  return [run.error, ...run.reasons].filter((text): text is string => Boolean(text)).join('; ');
}
