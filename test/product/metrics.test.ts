import { describe, expect, it } from 'vitest';
import { check, compileMetricQuery, dashboard, defineProduct, sql, table, ValidationError } from '../../src/index.js';

const returns = defineProduct({
  name: 'returns_by_supplier',
  version: '1.0.0',
  owner: { team: 'merch', email: 'merch@example.com' },
  domain: 'merchandising',
  description: 'Weekly returns by supplier.',
  audience: 'internal',
  users: [{ who: 'quality managers', action: 'pause orders' }],
  source: sql`select * from ${table('marts.returns_weekly')}`,
  contract: {
    columns: [
      { name: 'supplier_id', type: 'text' },
      { name: 'week', type: 'date' },
      { name: 'units', type: 'bigint' },
      { name: 'returns', type: 'bigint' },
    ],
  },
  metrics: {
    return_rate: { sql: 'sum(returns)::numeric / nullif(sum(units), 0)', by: ['supplier_id', 'week'] },
    units_ordered: { sql: 'sum(units)' },
  },
  checks: [check.notNull('supplier_id')],
  serve: [dashboard({ name: 'review', objects: [{ name: 'rates', metrics: ['return_rate'], by: ['week'] }] })],
});

describe('compileMetricQuery', () => {
  it('selects dimensions and named measures from the resolved source', () => {
    const { text, values } = compileMetricQuery(
      returns,
      { metrics: ['return_rate', 'units_ordered'], by: ['supplier_id', 'week'], where: { supplier_id: 'SUP-001', week: null } },
      { marts: 'marts_test' },
    );
    expect(text).toBe(
      [
        'select "supplier_id", "week", (sum(returns)::numeric / nullif(sum(units), 0)) as "return_rate", (sum(units)) as "units_ordered"',
        'from (select * from "marts_test"."returns_weekly") as s',
        'where "supplier_id" = $1 and "week" is null',
        'group by "supplier_id", "week"',
        'order by "supplier_id", "week"',
      ].join('\n'),
    );
    expect(values).toEqual(['SUP-001']);
  });

  it('reports every unknown metric, column and disallowed dimension at once', () => {
    let error: unknown;
    try {
      // Names outside the declaration do not type-check; at run time they are problems too.
      compileMetricQuery(returns, { metrics: ['return_rat' as 'return_rate', 'return_rate'], by: ['units', 'wk' as 'week'] });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      "query.metrics[0]: unknown metric 'return_rat' in product returns_by_supplier",
      "query.by[0]: metric 'return_rate' may not be grouped by 'units'",
      "query.by[1]: unknown column 'wk' in product returns_by_supplier",
    ]);
    expect((error as ValidationError).problems[0].fix).toMatch(/Did you mean 'return_rate'/);
  });

  it('validates a definition before compiling', () => {
    const broken = defineProduct({ ...returns, version: 'latest' as '1.0.0' });
    expect(() => compileMetricQuery(broken, { metrics: ['units_ordered'] })).toThrow(/'latest' is not a semantic version/);
  });
});
