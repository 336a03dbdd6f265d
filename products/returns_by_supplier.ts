import { check, dashboard, defineProduct, sql, table } from 'lastmile';

export default defineProduct({
  name: 'returns_by_supplier',
  version: '1.2.0',
  owner: { team: 'merchandising-analytics', email: 'merch-analytics@example.com' },
  domain: 'merchandising',
  description: 'Weekly return rate of running shorts by fabric supplier, for the Monday quality review.',
  audience: 'internal',
  users: [
    { who: 'quality managers', action: 'pause orders from suppliers whose return rate rises' },
    { who: 'buyers', action: 'renegotiate terms with suppliers above the return-rate target' },
  ],
  source: sql`
    select supplier_id, supplier, week, units, returns
    from ${table('marts.returns_weekly')}
  `,
  contract: {
    key: ['supplier_id', 'week'],
    columns: [
      { name: 'supplier_id', type: 'text', nullable: false, description: 'Supplier code, SUP-001 …' },
      { name: 'supplier', type: 'text', description: 'Supplier name' },
      { name: 'week', type: 'date', nullable: false, description: 'Monday of the order week' },
      { name: 'units', type: 'bigint', description: 'Units ordered in the week' },
      { name: 'returns', type: 'bigint', description: 'Units of those orders returned' },
    ],
  },
  metrics: {
    return_rate: {
      sql: 'sum(returns)::numeric / nullif(sum(units), 0)',
      description: 'Returned units per ordered unit',
      by: ['supplier_id', 'supplier', 'week'],
    },
    units_ordered: { sql: 'sum(units)', description: 'Units ordered' },
    units_returned: { sql: 'sum(returns)', description: 'Units returned' },
  },
  checks: [
    check.notNull(['supplier_id', 'week']),
    check.unique(['supplier_id', 'week']),
    check.pattern('supplier_id', '^SUP-[0-9]{3}$'),
    check.rowPredicate('returns <= units', { name: 'returns_not_above_units' }),
    check.range('units', { min: 0 }),
    check.freshness('week', { maxAge: '8d', severity: 'warn' }),
  ],
  slo: {
    freshness: '26h',
    availability: 0.99,
    defectFree: 0.95,
    deliverBy: '07:00 Europe/Berlin',
    // what the quality review dashboard asks; each run times it after serving
    latency: {
      p95: '2s',
      queries: {
        return_rate_last_12_weeks: sql`
          select supplier_id, supplier, sum(returns)::numeric / nullif(sum(units), 0) as return_rate
          from ${table('marts.returns_weekly')}
          where week >= (select max(week) from ${table('marts.returns_weekly')}) - 77
          group by supplier_id, supplier
          order by return_rate desc nulls last
        `,
      },
    },
    window: '28d',
  },
  serve: [
    dashboard({
      name: 'quality_review',
      objects: [
        { name: 'return_rate_weekly', metrics: ['return_rate', 'units_ordered', 'units_returned'], by: ['supplier_id', 'supplier', 'week'] },
        { name: 'return_rate_by_supplier', metrics: ['return_rate'], by: ['supplier_id', 'supplier'] },
      ],
      schedule: { cron: '0 5 * * *', timezone: 'Europe/Berlin' },
    }),
  ],
});
