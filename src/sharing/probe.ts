/** Proof that each changed consumer can read its view, before the reconcile commits. */
import type pg from 'pg';
import { InputError } from '../errors.js';
import { quoteIdent, quoteQualified } from '../warehouse/quote.js';
import type { ConsumerPlan } from './plan.js';

/** Consumers probed per round trip (and per savepoint: thousands of savepoints make the commit slow). */
const PROBE_BATCH = 100;

/**
 * Each consumer reads a row of its view through its own role before the reconcile commits: a grant the consumer
 * cannot use (a function the source calls that looks into a schema only the owner may use, a relation the source
 * names without table()) fails the run with the reason instead of "succeeding" for a consumer who cannot query.
 */
export async function probeReaders(client: pg.ClientBase, consumers: readonly ConsumerPlan[]): Promise<void> {
  const failures: string[] = [];
  const probe = (c: ConsumerPlan) => `set local role ${quoteIdent(c.role)}; select 1 from ${quoteQualified(c.schema, c.view)} limit 1; reset role`;
  for (let start = 0; start < consumers.length; start += PROBE_BATCH) {
    const group = consumers.slice(start, start + PROBE_BATCH);
    // the common case in one round trip and one savepoint (thousands of savepoints make the commit slow)
    await client.query('savepoint lastmile_probe');
    try {
      await client.query(group.map(probe).join(';\n'));
      await client.query('release savepoint lastmile_probe');
      continue;
    } catch {
      await client.query('rollback to savepoint lastmile_probe');
    }
    for (const consumer of group) {
      try {
        await client.query(probe(consumer));
      } catch (error) {
        failures.push(`${consumer.consumer} (role ${consumer.role}) cannot read ${consumer.schema}.${consumer.view}: ${(error as Error).message}`);
      } finally {
        await client.query('rollback to savepoint lastmile_probe');
      }
    }
    await client.query('release savepoint lastmile_probe');
  }
  if (failures.length > 0) {
    const shown = failures.length > 3 ? [...failures.slice(0, 3), `and ${failures.length - 3} more consumers the same way`] : failures;
    throw new InputError(
      `${shown.join('; ')}. A view reads its source with its owner's rights, but a function the source calls runs with the reader's: ` +
        'make such functions security definer (or inline them), and name every relation through table() so the owner role is granted it.',
    );
  }
}

