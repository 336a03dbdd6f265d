import { resolveEnvironment } from '../../config/resolve.js';
import type { Project } from '../../runtime/session.js';
import { openWarehouse, stopEmbeddedPostgres } from '../../runtime/warehouse.js';
import { EXIT } from '../exit-codes.js';
import { duration, table, type Output } from '../output.js';
import { isRemoval } from '../../deploy/ledger.js';

/** `lastmile status [--env E]`: the latest run of every product in the environment, from the metadata store. */
export async function statusCommand(project: Project, envName: string, out: Output): Promise<number> {
  const env = resolveEnvironment(project.config, envName);
  const warehouse = await openWarehouse(env, { root: project.root, seed: false });
  try {
    const runs = await warehouse.meta.latestRuns(env.name);
    const byProduct = new Map(runs.map((r) => [r.product, r]));
    const rows = await Promise.all(
      [...project.products.values()]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map(async (p) => {
          const run = byProduct.get(p.name);
          const latest = await warehouse.meta.latestDeployment(env.name, p.name);
          // a product whose latest ledger row removed it is not deployed
          const deployed = latest && !isRemoval(latest) ? latest : undefined;
          return { product: p, run, deployed };
        }),
    );
    if (out.json) {
      out.printJson({
        env: env.name,
        products: rows.map(({ product, run, deployed }) => ({
          product: product.name,
          version: product.version,
          deployedVersion: deployed?.version ?? null,
          lastRun: run ?? null,
        })),
      });
      return EXIT.ok;
    }
    out.print(`environment ${env.name} — ${warehouse.description}`);
    out.print(
      table(
        ['product', 'version', 'deployed', 'last run', 'status', 'rows', 'defect-free', 'took', 'trigger', 'error'],
        rows.map(({ product, run, deployed }) => [
          product.name,
          product.version,
          deployed?.version ?? '-',
          run ? run.startedAt.toISOString().replace('T', ' ').slice(0, 19) : 'never',
          run?.status ?? '',
          run?.rows ?? '',
          run?.defectRate !== null && run?.defectRate !== undefined ? `${((1 - run.defectRate) * 100).toFixed(1)} %` : '',
          run?.finishedAt ? duration(run.finishedAt.getTime() - run.startedAt.getTime()) : '',
          run?.trigger ?? '',
          run?.error ?? '',
        ]),
      ),
    );
    return EXIT.ok;
  } finally {
    await warehouse.close();
    await stopEmbeddedPostgres(project.root);
  }
}
