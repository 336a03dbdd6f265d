/**
 * The declaration API is typed so that a module that type-checks is almost always valid: every `@ts-expect-error`
 * below is a mistake `tsc --noEmit` rejects (and fails on if it stops rejecting it). At run time the same mistakes
 * are caught by the loader; here vitest only checks that the well-typed declarations validate.
 */
import { describe, expect, it } from 'vitest';
import { check, compileMetricQuery, dashboard, defineConfig, defineProduct, files, reverseEtl, secret, share, sql, table, validateProduct } from '../../src/index.js';

const base = {
  name: 'typed',
  version: '1.0.0',
  owner: { team: 'data', email: 'data@example.com' },
  domain: 'merchandising',
  description: 'Typing fixture.',
  audience: 'internal',
  users: [{ who: 'analysts', action: 'review' }],
  source: sql`select * from ${table('marts.returns_weekly')}`,
} as const;

const columns = [
  { name: 'supplier_id', type: 'text' },
  { name: 'week', type: 'date' },
  { name: 'units', type: 'bigint' },
] as const;

const typed = defineProduct({
  ...base,
  contract: { key: ['supplier_id', 'week'], columns: [...columns] },
  metrics: { units_ordered: { sql: 'sum(units)', by: ['week'] } },
  checks: [check.notNull(['supplier_id', 'week']), check.range('units', { min: 0 })],
  serve: [
    dashboard({ name: 'review', objects: [{ name: 'weekly', metrics: ['units_ordered'], by: ['week'] }] }),
    files({ name: 'pack', format: 'csv', to: './out', splitBy: 'supplier_id' }),
    share({ name: 'portal', to: 'suppliers', rowFilter: 'supplier_id' }),
    reverseEtl({ name: 'crm', destination: { type: 'http', url: 'https://crm.example.com', auth: secret('CRM_TOKEN') }, key: 'supplier_id', mapping: { id: 'supplier_id' } }),
  ],
});

// Each of these is a type error. The function is only type-checked, never called.
export function mistakes(): void {
  defineProduct({
    ...base,
    // @ts-expect-error — 'wek' is not a contract column
    contract: { key: ['wek'], columns: [...columns] },
    serve: [],
  });
  defineProduct({
    ...base,
    contract: { columns: [...columns] },
    // @ts-expect-error — unknown column in a check
    checks: [check.notNull('supplier')],
    serve: [],
  });
  defineProduct({
    ...base,
    contract: { columns: [...columns] },
    metrics: { units_ordered: { sql: 'sum(units)' } },
    // @ts-expect-error — unknown metric in a dashboard object
    serve: [dashboard({ name: 'review', objects: [{ name: 'weekly', metrics: ['units_orderd'] }] })],
  });
  defineProduct({
    ...base,
    contract: { columns: [...columns] },
    // @ts-expect-error — unknown column in a reverse ETL mapping
    serve: [reverseEtl({ name: 'crm', destination: { type: 'http', url: 'https://x.example.com' }, key: 'supplier_id', mapping: { id: 'supplier' } })],
  });
  // @ts-expect-error — typo in a target option is an excess property
  files({ name: 'pack', formt: 'csv', to: './out' });
  // @ts-expect-error — unknown file format
  files({ name: 'pack', format: 'xml', to: './out' });
  // @ts-expect-error — semver has three parts
  defineProduct({ ...base, version: '1.0', contract: { columns: [...columns] }, serve: [] });
  // @ts-expect-error — unknown audience
  defineProduct({ ...base, audience: 'partners', contract: { columns: [...columns] }, serve: [] });
  // @ts-expect-error — a secret is a secret() reference, not a string
  reverseEtl({ name: 'crm', destination: { type: 'http', url: 'https://x.example.com', auth: 'Bearer abc' }, key: 'id', mapping: { id: 'id' } });
  // @ts-expect-error — durations have a unit
  check.freshness('week', { maxAge: '8' });
  // @ts-expect-error — unknown column type
  defineProduct({ ...base, contract: { columns: [{ name: 'x', type: 'string' }] }, serve: [] });
  // @ts-expect-error — promotion names a declared environment
  defineConfig({ environments: { dev: {}, prod: {} }, promotion: ['dev', 'prd'] });
  // @ts-expect-error — the warehouse URL comes from an env var name, never a literal url field
  defineConfig({ environments: { prod: { warehouse: { url: 'postgres://x' } } }, promotion: ['prod'] });
  // @ts-expect-error — metric queries name declared metrics
  compileMetricQuery(typed, { metrics: ['units'] });
  // @ts-expect-error — and dimensions that are contract columns
  compileMetricQuery(typed, { metrics: ['units_ordered'], by: ['month'] });
}

describe('typed declarations', () => {
  it('validate at run time too', () => {
    expect(validateProduct(typed).problems).toEqual([]);
    expect(compileMetricQuery(typed, { metrics: ['units_ordered'], by: ['week'] }).text).toContain('"units_ordered"');
  });
});
