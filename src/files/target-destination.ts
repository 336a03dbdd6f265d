import type { Product } from '../product/model.js';
import { resolveSecret } from '../product/secret.js';
import { targetOf } from '../product/target-of.js';
import type { FilesTarget } from '../product/targets.js';
import { placeOf } from '../config/places.js';
import type { ResolvedEnvironment } from '../config/resolve.js';
import { openDestination, type Destination } from './destination.js';

/** The files target `name` of a product, or an error naming the files targets it has. */
export function filesTargetOf(product: Product, name: string): FilesTarget {
  return targetOf(product, name, 'files');
}

/**
 * Where a files target writes in an environment (src/config/places.ts: its own place, never another environment's),
 * with its credentials read from the environment now (never stored, never logged). A local stand-in for a bucket
 * takes no endpoint or credentials.
 */
export async function targetDestination(product: Product, target: FilesTarget, root: string, env: Pick<ResolvedEnvironment, 'name' | 'production' | 'destinations'>): Promise<Destination> {
  const usedBy = `files target ${target.name} of ${product.name}`;
  const place = placeOf(env, target.to);
  if (place.standIn) return await openDestination({ to: place.to }, { root });
  return await openDestination(
    {
      to: place.to,
      ...(target.endpoint !== undefined && { endpoint: target.endpoint }),
      ...(target.region !== undefined && { region: target.region }),
      ...(target.credentials && {
        credentials: {
          accessKeyId: resolveSecret(target.credentials.accessKeyId, usedBy),
          secretAccessKey: resolveSecret(target.credentials.secretAccessKey, usedBy),
        },
      }),
    },
    { root },
  );
}
