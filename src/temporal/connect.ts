import Long from 'long';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { UnavailableError } from '../errors.js';
import type { TemporalTarget } from './resolve.js';
import { SEARCH_ATTRIBUTES } from './names.js';

/** A client connection to the resolved Temporal. */
export async function connectClient(target: TemporalTarget): Promise<{ connection: Connection; client: Client }> {
  const connection = await unavailableUnless(target, () =>
    Connection.connect({
      address: target.address,
      ...(target.tls !== undefined && { tls: target.tls }),
      ...(target.apiKey !== undefined && { apiKey: target.apiKey }),
    }),
  );
  return { connection, client: new Client({ connection, namespace: target.namespace }) };
}

/** The connection a worker polls with. */
export async function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  return await unavailableUnless(target, () =>
    NativeConnection.connect({
      address: target.address,
      ...(target.tls !== undefined && { tls: target.tls }),
      ...(target.apiKey !== undefined && { apiKey: target.apiKey }),
    }),
  );
}

/** A connection that could not be made is Temporal being unavailable (exit 3), said with the address. */
async function unavailableUnless<T>(target: TemporalTarget, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UnavailableError(`Temporal at ${target.address} did not answer (${reason}). ${target.describe}.`, { cause: error });
  }
}

interface GrpcError {
  code?: number;
  message?: string;
}

/** Creates the namespace on a local server when it is missing; on a remote one a missing namespace is an error. */
export async function ensureNamespace(connection: Connection, target: TemporalTarget): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace: target.namespace });
  } catch (error) {
    if ((error as GrpcError).code !== 5) throw error;
    if (target.source === 'address') {
      throw new Error(
        `Namespace ${target.namespace} does not exist on ${target.address}. Create it there (temporal operator namespace create ${target.namespace}) or set the namespace in lastmile.config.ts.`,
      );
    }
    await connection.workflowService.registerNamespace({
      namespace: target.namespace,
      workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(7 * 86400) },
    });
  }
}

/** Registers lastmile's search attributes (Keyword) where missing; returns the names it added. */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const wanted = Object.values(SEARCH_ATTRIBUTES);
  let existing: Record<string, unknown>;
  try {
    existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (error) {
    throw new Error(
      `Could not list the search attributes of namespace ${namespace} (${(error as GrpcError).message ?? String(error)}). ` +
        `Create ${wanted.join(', ')} as Keyword attributes yourself (temporal operator search-attribute create --name LastmileProduct --type Keyword, ...; on Temporal Cloud with tcld).`,
    );
  }
  const missing = wanted.filter((name) => !(name in existing));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((name) => [name, 2 /* INDEXED_VALUE_TYPE_KEYWORD */])),
  });
  return missing;
}
