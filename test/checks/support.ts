/** Shared by the check suites: a product over a test table, and a warehouse connection that counts statements. */
import type pg from 'pg';
import { check, defineProduct, files, table, toProduct, type CheckSpec, type Product, type Slo, type Source } from '../../src/index.js';
import type { Queryable } from '../../src/checks/index.js';

export { check };

/** Wraps a real pool: every statement is recorded (text and values) before it goes to the server. */
export function countingPool(pool: pg.Pool): { db: Queryable; sent: { text: string; values: unknown[] }[]; reset(): void } {
  const sent: { text: string; values: unknown[] }[] = [];
  return {
    sent,
    reset: () => void sent.splice(0),
    db: {
      async query(config) {
        sent.push({ text: config.text, values: config.values ?? [] });
        return (await pool.query(config)) as unknown as { rows: Record<string, unknown>[] };
      },
    },
  };
}

export interface TestProductOptions {
  name?: string;
  source?: Source;
  key?: string[];
  columns: readonly { name: string; type: string }[];
  checks: readonly CheckSpec[];
  slo?: Slo;
}

/** A validated product (the loader's schema runs, so names and severities are filled in as for a real module). */
export function testProduct(options: TestProductOptions): Product {
  const definition = defineProduct({
    name: options.name ?? 'test_product',
    version: '1.0.0',
    owner: { team: 'data', email: 'data@example.com' },
    domain: 'testing',
    description: 'A product over a test table.',
    audience: 'internal',
    users: [{ who: 'tests', action: 'assert' }],
    source: options.source ?? table('t.orders'),
    contract: {
      key: (options.key ?? []) as never[],
      columns: options.columns.map((column) => ({ ...column, type: column.type as never })) as never,
    },
    checks: options.checks as never,
    ...(options.slo && { slo: options.slo }),
    serve: [files({ name: 'out', format: 'csv', to: './out', schedule: { cron: '0 5 * * *', timezone: 'UTC' } })],
  });
  return toProduct(definition as never);
}
