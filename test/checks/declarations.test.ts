/** The declaration fields the checks library added: range exclusivity and rowCount's change against the previous run. */
import { describe, expect, it } from 'vitest';
import { check, defineProduct, files, table, validateProduct } from '../../src/index.js';

const declare = (checks: unknown[]) =>
  defineProduct({
    name: 'declared',
    version: '1.0.0',
    owner: { team: 'data', email: 'data@example.com' },
    domain: 'testing',
    description: 'Declarations.',
    audience: 'internal',
    users: [{ who: 'tests', action: 'assert' }],
    source: table('t.orders'),
    contract: { key: ['id'], columns: [{ name: 'id', type: 'integer' }, { name: 'score', type: 'numeric' }] },
    checks: checks as never,
    serve: [files({ name: 'out', format: 'csv', to: './out' })],
  });

const messages = (checks: unknown[]) => validateProduct(declare(checks)).problems.map((p) => `${p.path}: ${p.message}`);

describe('check declarations', () => {
  it('accepts exclusive range bounds and a rowCount change limit', () => {
    const { product, problems } = validateProduct(
      declare([check.range('score', { min: 0, max: 1, exclusiveMax: true }), check.rowCount({ maxChange: 0.2 })]),
    );
    expect(problems).toEqual([]);
    expect(product!.checks).toEqual([
      { kind: 'check', type: 'range', column: 'score', min: 0, max: 1, exclusiveMax: true, name: 'range_score', severity: 'block' },
      { kind: 'check', type: 'rowCount', maxChange: 0.2, name: 'row_count', severity: 'block' },
    ]);
  });

  it('rejects a rowCount without any limit, a change limit that is not above 0, and a non-boolean exclusivity', () => {
    expect(messages([check.rowCount({})])).toEqual([expect.stringMatching(/^checks\[0\]: the check has neither min, max nor maxChange/)]);
    expect(messages([check.rowCount({ maxChange: 0 })])).toEqual([expect.stringMatching(/^checks\[0\]\.maxChange: .*not above 0/)]);
    expect(messages([{ ...check.range('score', { min: 0 }), exclusiveMin: 'yes' }])).toEqual([expect.stringMatching(/^checks\[0\]\.exclusiveMin: /)]);
  });
});
