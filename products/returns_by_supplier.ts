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
    // the data is weekly: the newest week the dashboard shows is at most 8 days old
    freshness: '8d',
    availability: 0.99,
    defectFree: 0.95,
    deliverBy: '07:00 Europe/Berlin',
    // the p95 of the dashboard's queries (timed after each refresh)
    latency: { p95: '2s' },
    window: '28d',
  },
  serve: [
    dashboard({
      name: 'quality_review',
      // the objects live in the logical schema `dashboards` (mapped per environment like any other)
      objects: [
        // a materialized view of the metrics, refreshed concurrently: readers are never blocked
        { name: 'return_rate_weekly', metrics: ['return_rate', 'units_ordered', 'units_returned'], by: ['supplier_id', 'supplier', 'week'] },
        // built from the one above, so refreshed after it
        {
          name: 'supplier_trend',
          sql: sql`
            select supplier_id, supplier,
                   sum(units_returned)::numeric / nullif(sum(units_ordered), 0) as return_rate_12w,
                   sum(units_ordered) as units_12w
            from ${table('dashboards.return_rate_weekly')}
            where week >= (select max(week) from ${table('dashboards.return_rate_weekly')}) - 77
            group by supplier_id, supplier
          `,
          uniqueKey: ['supplier_id'],
        },
        // one row of headline figures: a table rebuilt and swapped in on every refresh
        {
          name: 'review_headline',
          sql: sql`
            select max(week) as latest_week,
                   sum(units_returned) filter (where week = (select max(week) from ${table('dashboards.return_rate_weekly')}))::numeric
                     / nullif(sum(units_ordered) filter (where week = (select max(week) from ${table('dashboards.return_rate_weekly')})), 0) as return_rate_latest_week
            from ${table('dashboards.return_rate_weekly')}
          `,
          refresh: 'swap',
        },
      ],
      // what the quality review dashboard asks; each refresh warms and times it
      queries: {
        worst_suppliers_12w: sql`
          select supplier_id, supplier, return_rate_12w
          from ${table('dashboards.supplier_trend')}
          order by return_rate_12w desc nulls last
          limit 10
        `,
        supplier_weeks: sql`
          select week, return_rate, units_ordered
          from ${table('dashboards.return_rate_weekly')}
          where supplier_id = 'SUP-001'
          order by week desc
          limit 12
        `,
      },
      freshness: { object: 'return_rate_weekly', column: 'week' },
      schedule: { cron: '0 5 * * *', timezone: 'Europe/Berlin' },
    }),
  ],
});
