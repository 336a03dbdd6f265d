/** The adapter for a sync's place in an environment: a stand-in table, a PostgreSQL table, an HTTP API or HubSpot. */
import pg from 'pg';
import { InputError } from '../errors.js';
import { resolveSecret, type SecretRef } from '../product/secret.js';
import { durationMs } from '../time/duration.js';
import type { Warehouse } from '../runtime/warehouse.js';
import { httpDestination } from './destinations/http.js';
import { hubspotDestination } from './destinations/hubspot.js';
import { postgresDestination } from './destinations/postgres.js';
import type { DestinationAdapter } from './destinations/types.js';
import { describePlace, HUBSPOT_API, type SyncPlace } from './places.js';
import type { SyncSpec } from './spec.js';

const DEFAULT_TIMEOUT = '30s';

export function openDestination(spec: SyncSpec, place: SyncPlace, warehouse: Warehouse, env: string, vars: NodeJS.ProcessEnv = process.env): DestinationAdapter {
  const label = `${describePlace(place)} (${spec.product}/${spec.target} in ${env})`;
  const fields = spec.fields.map((f) => f.field);
  const secret = (ref: SecretRef) => {
    try {
      return resolveSecret(ref, `product ${spec.product}, target ${spec.target}, env ${env}`, vars);
    } catch (error) {
      // the worker's environment lacks it: no retry will find it
      throw new InputError(error instanceof Error ? error.message : String(error));
    }
  };
  if (place.kind === 'standin') {
    return postgresDestination({
      pool: warehouse.pool,
      ownsPool: false,
      table: place.table,
      keyFields: spec.keyFields,
      fields,
      nulls: spec.nulls,
      create: { types: Object.fromEntries(spec.fields.map((f) => [f.field, spec.types[f.column] ?? 'text'])) },
      needsUnique: spec.mode !== 'update',
      label,
    });
  }
  const destination = place.destination;
  if (destination.type === 'postgres') {
    const [schema, name] = destination.table.split('.') as [string, string];
    const pool = new pg.Pool({ connectionString: secret(destination.url), max: spec.concurrency + 1, application_name: 'lastmile-sync' });
    // an idle connection the destination dropped must not crash the worker
    pool.on('error', () => undefined);
    return postgresDestination({ pool, ownsPool: true, table: { schema, name }, keyFields: spec.keyFields, fields, nulls: spec.nulls, needsUnique: spec.mode !== 'update', label });
  }
  if (destination.type === 'http') {
    return httpDestination({
      url: destination.url,
      method: destination.method ?? 'POST',
      token: destination.auth ? secret(destination.auth) : undefined,
      timeoutMs: durationMs(destination.timeout ?? DEFAULT_TIMEOUT),
    });
  }
  return hubspotDestination({
    baseUrl: destination.baseUrl ?? HUBSPOT_API,
    objectType: destination.objectType,
    idProperty: destination.idProperty,
    token: secret(destination.token),
    timeoutMs: durationMs(destination.timeout ?? DEFAULT_TIMEOUT),
  });
}
