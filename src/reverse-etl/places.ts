/**
 * Where an environment's sync writes (src/config/places.ts): production writes to the declared destination; another
 * environment writes where its `destinations` map the destination, and otherwise into a local stand-in — a table
 * `standin.<product>__<target>` in its own warehouse that a user can read with `lastmile sql` — so dev and test never
 * reach a production system.
 *  - an HTTP API or HubSpot is mapped by its URL prefix (`'https://crm.example.com/': 'http://127.0.0.1:8080/'`);
 *  - a PostgreSQL destination by the variable holding its URL (`'secret:CRM_DB_URL': 'secret:CRM_TEST_DB_URL'`).
 */
import { placeOf } from '../config/places.js';
import type { ResolvedEnvironment } from '../config/resolve.js';
import type { Destination } from '../product/targets.js';

export const STANDIN_SCHEMA = 'standin';
export const HUBSPOT_API = 'https://api.hubapi.com';

export type SyncPlace =
  | { kind: 'destination'; destination: Destination; how: 'declared' | 'mapped' }
  | { kind: 'standin'; table: { schema: string; name: string }; why: string };

type Env = Pick<ResolvedEnvironment, 'name' | 'production' | 'destinations'>;

export function syncPlace(env: Env, product: string, target: string, destination: Destination): SyncPlace {
  const standIn = (declared: string): SyncPlace => ({
    kind: 'standin',
    table: { schema: STANDIN_SCHEMA, name: `${product}__${target}` },
    why: `${declared} is the production environment's; ${env.name} syncs into the stand-in table ${STANDIN_SCHEMA}.${product}__${target} of its own warehouse unless environments.${env.name}.destinations maps it`,
  });
  if (destination.type === 'postgres') {
    const declared = `secret:${destination.url.env}`;
    const mapped = env.destinations[declared];
    if (mapped !== undefined && /^secret:[A-Z_][A-Z0-9_]*$/.test(mapped)) {
      return { kind: 'destination', how: 'mapped', destination: { ...destination, url: { kind: 'secret', env: mapped.slice('secret:'.length) } } };
    }
    if (env.production) return { kind: 'destination', how: 'declared', destination };
    return standIn(`the table ${destination.table} at ${destination.url.env}`);
  }
  const url = destination.type === 'http' ? destination.url : (destination.baseUrl ?? HUBSPOT_API);
  const place = placeOf(env, url);
  if (place.how === 'own') return standIn(url);
  if (place.how === 'declared') return { kind: 'destination', how: 'declared', destination };
  return {
    kind: 'destination',
    how: 'mapped',
    destination: destination.type === 'http' ? { ...destination, url: place.to } : { ...destination, baseUrl: place.to },
  };
}

/** The place for people: where the rows go, without credentials. */
export function describePlace(place: SyncPlace): string {
  if (place.kind === 'standin') return `stand-in ${place.table.schema}.${place.table.name}`;
  const d = place.destination;
  if (d.type === 'postgres') return `postgres ${d.table} (${d.url.env})`;
  if (d.type === 'hubspot') return `HubSpot ${d.objectType} at ${new URL(d.baseUrl ?? HUBSPOT_API).origin}`;
  const url = new URL(d.url);
  return `${d.method ?? 'POST'} ${url.origin}${url.pathname}`;
}
