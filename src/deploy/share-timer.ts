import type { Client } from '@temporalio/client';
import type { Product } from '../product/model.js';
import { shareExpiryId, signalShareExpiry } from '../temporal/share-expiry-start.js';

/**
 * Tells the environment's share expiry timer (`lastmile/<env>/shares/expiry`) that the products may have changed —
 * starting it when it does not run — so an expiry changed in code moves it at deploy, with no run. Only when some
 * product shares; returns the timer's id, or undefined.
 */
export async function signalShareTimer(o: { client: Client; env: string; taskQueue: string; products: readonly Product[] }): Promise<string | undefined> {
  if (!o.products.some((p) => p.serve.some((t) => t.kind === 'share'))) return undefined;
  await signalShareExpiry(o.client, o.env, o.taskQueue);
  return shareExpiryId(o.env);
}
