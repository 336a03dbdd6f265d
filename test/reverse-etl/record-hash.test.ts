/** A record's hash does not depend on the order the mapping lists its fields in (a snapshot stored as jsonb reorders them). */
import { describe, expect, it } from 'vitest';
import { hashSql } from '../../src/reverse-etl/diff-sql.js';

const fields = [
  { field: 'leadId', column: 'id' },
  { field: 'email', column: 'email' },
  { field: 'score', column: 'score' },
];

describe('the record hash of a sync', () => {
  it('is the same whatever order the mapping lists the fields in, on both hash paths', () => {
    const reordered = [fields[2]!, fields[0]!, fields[1]!];
    for (const binary of [true, false]) {
      expect(hashSql({ fields: reordered, nulls: 'send' }, 'q', binary)).toBe(hashSql({ fields, nulls: 'send' }, 'q', binary));
    }
  });

  it('changes when a field is renamed, points at another column, or the NULL rule changes', () => {
    const base = hashSql({ fields, nulls: 'send' });
    expect(hashSql({ fields: [{ field: 'lead', column: 'id' }, ...fields.slice(1)], nulls: 'send' })).not.toBe(base);
    expect(hashSql({ fields: [{ field: 'leadId', column: 'email' }, ...fields.slice(1)], nulls: 'send' })).not.toBe(base);
    expect(hashSql({ fields, nulls: 'skip' })).not.toBe(base);
  });
});
