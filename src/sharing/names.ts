/**
 * The names a share uses in the warehouse. Schemas and views live in the environment's own database (and its schema
 * map), but roles are cluster-wide in PostgreSQL — dev and test of the embedded default share one cluster — so every
 * role lastmile names outside production carries the environment: `suppliers_sup_001__dev`. A role a product names
 * explicitly is production's; other environments use that name with their suffix.
 */

import { snakeId } from '../text/snake.js';

/** At most 63 bytes per PostgreSQL identifier; longer names would be cut silently, so they are refused. */
export const MAX_IDENTIFIER = 63;

/** lower_snake of a free-form id: `SUP-001` → `sup_001` (src/text/snake.ts). */
export const roleSafe = snakeId;

export interface EnvNaming {
  name: string;
  production: boolean;
}

function inEnv(name: string, env: EnvNaming): string {
  return env.production ? name : `${name}__${roleSafe(env.name)}`;
}

/** The NOLOGIN role that owns every share schema and view of the environment. */
export function ownerRole(env: EnvNaming): string {
  return inEnv('lastmile_share_owner', env);
}

/** The role a consumer's grants go to: its own `role`, else `<to>_<consumer>`; suffixed outside production. */
export function consumerRole(env: EnvNaming, to: string, consumer: { id: string; role?: string }): string {
  return inEnv(consumer.role ?? `${roleSafe(to)}_${roleSafe(consumer.id)}`, env);
}

/** A consumer's view of a product in the share schema: `<product>__<consumer>`. */
export function viewName(product: string, consumerId: string): string {
  return `${product}__${roleSafe(consumerId)}`;
}

/** The schema of lastmile's private sharing state (the mask salt): readable by the share owner only. */
export const PRIVATE_SCHEMA = 'lastmile_shares';

/** The advisory lock every reconcile of a database (and a usage sample) holds for its transaction. */
export const RECONCILE_LOCK = 'lastmile-share-reconcile';
