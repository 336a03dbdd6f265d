/**
 * A valid product module as a user writes it. Malformed cases are this text with one edit, so each case shows
 * exactly what the user got wrong.
 */
export function validProductModule(name = 'returns_by_supplier'): string {
  return `import { check, dashboard, defineProduct, files, reverseEtl, secret, share, sql, table } from 'lastmile';

export default defineProduct({
  name: '${name}',
  version: '1.2.0',
  owner: { team: 'merchandising-analytics', email: 'merch-analytics@example.com' },
  domain: 'merchandising',
  description: 'Weekly return rate by supplier.',
  audience: 'internal',
  users: [{ who: 'quality managers', action: 'pause orders from suppliers whose return rate rises' }],
  source: sql\`select supplier_id, supplier, week, units, returns from \${table('marts.returns_weekly')}\`,
  contract: {
    key: ['supplier_id', 'week'],
    columns: [
      { name: 'supplier_id', type: 'text', nullable: false },
      { name: 'supplier', type: 'text', classification: 'public' },
      { name: 'week', type: 'date' },
      { name: 'units', type: 'bigint' },
      { name: 'returns', type: 'bigint' },
    ],
  },
  metrics: {
    return_rate: { sql: 'sum(returns)::numeric / nullif(sum(units), 0)', by: ['supplier_id', 'week'] },
    units_ordered: { sql: 'sum(units)' },
  },
  checks: [
    check.notNull(['supplier_id', 'week']),
    check.unique(['supplier_id', 'week']),
    check.rowPredicate('returns <= units', { name: 'returns_not_above_units' }),
    check.freshness('week', { maxAge: '8d', severity: 'warn' }),
  ],
  slo: { freshness: '26h', availability: 0.99, defectFree: 0.95, deliverBy: '07:00 Europe/Berlin', window: '28d' },
  serve: [
    dashboard({
      name: 'quality_review',
      objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }],
      schedule: { cron: '0 5 * * *', timezone: 'Europe/Berlin' },
    }),
    files({ name: 'supplier_pack', format: 'csv', to: './exchange/quality', splitBy: 'supplier_id' }),
    share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: ['pii'], expiresAfter: '30d' }),
    reverseEtl({
      name: 'crm_sync',
      destination: { type: 'http', url: 'https://crm.example.com/api/suppliers', auth: secret('CRM_TOKEN') },
      key: 'supplier_id',
      mapping: { externalId: 'supplier_id', weeklyUnits: 'units' },
      guardrails: { values: [{ column: 'units', min: 0, max: 1000000 }] },
    }),
  ],
});
`;
}

/** Applies `[from, to]` edits to a module's text; fails loudly when an edit does not match, so cases cannot rot. */
export function edit(text: string, edits: readonly (readonly [string, string])[]): string {
  return edits.reduce((current, [from, to]) => {
    if (!current.includes(from)) throw new Error(`edit does not match the module text: ${from}`);
    return current.replace(from, to);
  }, text);
}
