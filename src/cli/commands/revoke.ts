import { resolveEnvironment } from '../../config/resolve.js';
import { listVersions, revokeVersion } from '../../files/publish.js';
import { filesTargetOf, targetDestination } from '../../files/target-destination.js';
import type { Project } from '../../runtime/session.js';
import { openWarehouse, stopEmbeddedPostgres } from '../../runtime/warehouse.js';
import { CommandFailure, EXIT, UsageError } from '../exit-codes.js';
import type { Output } from '../output.js';
import { markRevoked } from '../../meta/file-manifests.js';

export interface RevokeOptions {
  env: string;
  product: string;
  target: string;
  /** `v=<runId>` or the run id */
  version: string;
}

/**
 * `lastmile revoke <product> --target T --version v=<runId>`: takes a published version of a files target back —
 * its files are deleted (so its download links stop working too), `_latest.json` moves to the newest version left
 * (or goes when none is left), and the version's rows in `lastmile.file_manifests` are marked unpublished.
 */
export async function revokeCommand(project: Project, options: RevokeOptions, out: Output): Promise<number> {
  const product = project.products.get(options.product);
  if (!product) throw new UsageError(`no product named ${options.product}; the products are ${[...project.products.keys()].sort().join(', ')}`);
  let target;
  try {
    target = filesTargetOf(product, options.target);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const runId = options.version.replace(/^v=/, '');
  const env = resolveEnvironment(project.config, options.env);
  const destination = await targetDestination(product, target, project.root, env);
  const versions = await listVersions(destination);
  if (!versions.some((v) => v.runId === runId)) {
    const listed = [...versions].reverse().map((v) => `v=${v.runId} (${v.createdAt.toISOString().replace('T', ' ').slice(0, 19)} UTC${v.current ? ', current' : ''})`);
    throw new CommandFailure(
      `${product.name}/${target.name} has no version v=${runId} in ${destination.description}, so nothing was revoked; ` +
        (listed.length > 0 ? `its versions, newest first: ${listed.join(', ')}.` : 'it has no published versions.'),
    );
  }
  const result = await revokeVersion(destination, runId);
  const warehouse = await openWarehouse(env, { root: project.root, seed: false });
  try {
    const marked = await markRevoked(warehouse.pool, { runId, env: env.name, product: product.name, target: target.name });
    const summary = { product: product.name, target: target.name, version: `v=${runId}`, deleted: result.deleted, current: result.pointer ? `v=${result.pointer}` : null, recordsMarked: marked };
    if (out.json) out.printJson(summary);
    else {
      out.print(
        `revoked v=${runId} of ${product.name}/${target.name} in ${destination.description}: ${result.deleted} objects deleted; ` +
          (result.pointer ? `_latest.json now points at v=${result.pointer}` : 'no version is left, _latest.json is gone'),
      );
    }
    return result.deleted === 0 ? EXIT.failed : EXIT.ok;
  } finally {
    await warehouse.close();
    await stopEmbeddedPostgres(project.root);
  }
}
