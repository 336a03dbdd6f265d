/**
 * The classification table: each change made to an example product (as validated) and the class the diff gives it.
 * The products are the repository's examples read statically; each row changes a copy.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Product } from '../../src/product/model.js';
import { productChanges, versionBump } from '../../src/static/diff/product-diff.js';
import { typeChange } from '../../src/static/diff/column-types.js';
import type { ChangeClass } from '../../src/static/diff/types.js';
import { readProducts } from '../../src/static/read.js';

const REPO = path.resolve(import.meta.dirname, '../..');
type Mutable = { -readonly [K in keyof Product]: any } & { __base?: { name: string; type: string } };

let examples: Map<string, Product>;
beforeAll(async () => {
  const read = await readProducts(REPO, { load: false });
  examples = new Map(read.products.map((p) => [p.product.name, p.product]));
});

function changed(name: string, edit: (p: Mutable) => void): Product {
  const copy = structuredClone(examples.get(name)!) as Mutable;
  edit(copy);
  return copy as Product;
}

const column = (p: Mutable, name: string) => p.contract.columns.find((c: { name: string }) => c.name === name);

interface Row {
  change: string;
  product: string;
  edit: (p: Mutable) => void;
  expected: ChangeClass | 'none';
  /** a word the change's subject or message must hold */
  mentions?: string;
}

const TABLE: Row[] = [
  { change: 'a column removed', product: 'returns_by_supplier', edit: (p) => (p.contract.columns = p.contract.columns.filter((c: { name: string }) => c.name !== 'supplier')), expected: 'breaking', mentions: 'supplier' },
  { change: 'a column renamed', product: 'returns_by_supplier', edit: (p) => (column(p, 'supplier').name = 'supplier_name'), expected: 'breaking', mentions: 'renamed to supplier_name' },
  { change: 'text → date', product: 'returns_by_supplier', edit: (p) => (column(p, 'supplier').type = 'date'), expected: 'breaking', mentions: 'text to date' },
  { change: 'timestamptz → timestamp', product: 'ad_bids', edit: (p) => timestampColumn(p, 'timestamptz', 'timestamp'), expected: 'breaking', mentions: 'timestamp' },
  { change: 'numeric scale reduced', product: 'returns_by_supplier', edit: (p) => numericPair(p, 'numeric(12,2)', 'numeric(12,1)'), expected: 'breaking', mentions: 'numeric(12,1)' },
  { change: 'varchar shortened', product: 'returns_by_supplier', edit: (p) => numericPair(p, 'varchar(50)', 'varchar(20)'), expected: 'breaking', mentions: 'varchar(20)' },
  { change: 'a column that may now be NULL', product: 'returns_by_supplier', edit: (p) => (column(p, 'week').nullable = true), expected: 'breaking', mentions: 'NULL' },
  { change: 'the key changed', product: 'returns_by_supplier', edit: (p) => (p.contract.key = ['supplier_id']), expected: 'breaking', mentions: 'key' },
  { change: 'a metric removed', product: 'returns_by_supplier', edit: (p) => delete p.metrics.units_returned, expected: 'breaking', mentions: 'units_returned' },
  { change: "a metric's definition changed", product: 'returns_by_supplier', edit: (p) => (p.metrics.units_ordered.sql = 'count(*)'), expected: 'breaking', mentions: 'count(*)' },
  { change: 'a target removed', product: 'partner_invoices', edit: (p) => (p.serve = p.serve.slice(1)), expected: 'breaking', mentions: 'removed' },
  { change: 'a share consumer losing columns', product: 'supplier_quality_share', edit: (p) => shareConsumer(p, 'SUP-003', { columns: ['supplier_id', 'lot_id', 'week', 'defects'] }), expected: 'breaking', mentions: 'returns' },
  { change: 'a dashboard object no longer grouped by a column', product: 'returns_by_supplier', edit: (p) => (p.serve[0].objects[0].by = ['supplier_id', 'week']), expected: 'breaking', mentions: 'no longer grouped by supplier' },
  { change: 'a dashboard object removed', product: 'returns_by_supplier', edit: (p) => (p.serve[0].objects = p.serve[0].objects.slice(1)), expected: 'breaking', mentions: 'return_rate_weekly removed' },
  { change: 'a files target moved', product: 'partner_invoices', edit: (p) => (p.serve[0].to = './exchange/elsewhere/'), expected: 'breaking', mentions: 'to changed' },
  { change: 'a reverse-ETL field no longer synced', product: 'lead_scores', edit: (p) => delete p.serve[0].mapping[Object.keys(p.serve[0].mapping).find((k) => k !== 'lead_id')!], expected: 'breaking', mentions: 'no longer synced' },
  { change: 'a reverse-ETL mode changed to mirror', product: 'lead_scores', edit: (p) => (p.serve[0].mode = 'mirror'), expected: 'needs-review', mentions: 'deletes' },
  { change: 'a check removed', product: 'returns_by_supplier', edit: (p) => (p.checks = p.checks.slice(1)), expected: 'needs-review', mentions: 'less guarded' },
  { change: 'audience internal → external', product: 'returns_by_supplier', edit: (p) => (p.audience = 'external'), expected: 'needs-review', mentions: 'leaves the organisation' },
  { change: 'a column added', product: 'returns_by_supplier', edit: (p) => p.contract.columns.push({ name: 'region', type: 'text', nullable: true, classification: 'internal' }), expected: 'non-breaking', mentions: 'region' },
  { change: 'int → bigint', product: 'returns_by_supplier', edit: (p) => numericPair(p, 'integer', 'bigint'), expected: 'non-breaking', mentions: 'widened' },
  { change: 'varchar → text', product: 'returns_by_supplier', edit: (p) => numericPair(p, 'varchar(20)', 'text'), expected: 'non-breaking', mentions: 'widened' },
  { change: 'numeric precision raised', product: 'returns_by_supplier', edit: (p) => numericPair(p, 'numeric(10,2)', 'numeric(14,2)'), expected: 'non-breaking', mentions: 'widened' },
  { change: 'docs changed', product: 'returns_by_supplier', edit: (p) => (column(p, 'units').description = 'Units ordered in the ISO week'), expected: 'non-breaking', mentions: 'description' },
  { change: 'a metric added', product: 'returns_by_supplier', edit: (p) => (p.metrics.weeks = { sql: 'count(distinct week)' }), expected: 'non-breaking', mentions: 'weeks' },
  { change: 'a schedule changed', product: 'returns_by_supplier', edit: (p) => (p.serve[0].schedule = { cron: '0 6 * * *', timezone: 'Europe/Berlin' }), expected: 'non-breaking', mentions: 'schedule' },
  { change: "a column's classification lowered", product: 'supplier_quality_share', edit: (p) => (column(p, 'contact_email').classification = 'internal'), expected: 'needs-review', mentions: 'less protected' },
  { change: 'a mask removed', product: 'supplier_quality_share', edit: (p) => delete p.serve[0].mask, expected: 'needs-review', mentions: 'mask removed' },
  { change: 'a share widened to a new consumer', product: 'supplier_quality_share', edit: (p) => p.serve[0].consumers.push('SUP-099'), expected: 'needs-review', mentions: 'SUP-099' },
  { change: 'the row filter removed', product: 'supplier_quality_share', edit: (p) => delete p.serve[0].rowFilter, expected: 'needs-review', mentions: 'every row' },
  { change: 'the source reformatted only', product: 'returns_by_supplier', edit: (p) => (p.source = { ...p.source, parts: p.source.parts.map((part: string) => `\n  -- reformatted\n  ${part.replace(/\s+/g, '   ')}  `) }), expected: 'none' },
  { change: 'a metric reformatted only', product: 'returns_by_supplier', edit: (p) => (p.metrics.units_ordered.sql = 'sum( units ) /* ordered */\n'), expected: 'none' },
];

function timestampColumn(p: Mutable, from: string, to: string): void {
  // the example has no timestamp column; give it one at `from` in the base and `to` in the change
  p.contract.columns.push({ name: 'bid_at', type: to, nullable: true, classification: 'internal' });
  p.__base = { name: 'bid_at', type: from };
}

function numericPair(p: Mutable, from: string, to: string): void {
  p.contract.columns.push({ name: 'amount', type: to, nullable: true, classification: 'internal' });
  p.__base = { name: 'amount', type: from };
}

function shareConsumer(p: Mutable, id: string, spec: Record<string, unknown>): void {
  const consumers = p.serve[0].consumers as (string | { id: string })[];
  const index = consumers.findIndex((c) => (typeof c === 'string' ? c : c.id) === id);
  consumers[index] = { id, ...spec };
}

/** The base of a row: the example, plus the column a type row adds at its old type. */
function baseOf(row: Row, edited: Mutable): Product {
  const base = structuredClone(examples.get(row.product)!) as Mutable;
  if (edited.__base) {
    base.contract.columns.push({ name: edited.__base.name, type: edited.__base.type, nullable: true, classification: 'internal' });
    delete edited.__base;
  }
  return base as Product;
}

describe('the classification table', () => {
  it('has at least 15 changes', () => expect(TABLE.length).toBeGreaterThanOrEqual(15));

  for (const row of TABLE) {
    it(`${row.change}: ${row.expected}`, () => {
      const edited = changed(row.product, row.edit) as Mutable;
      const base = baseOf(row, edited);
      const changes = productChanges(base, edited as Product);
      if (row.expected === 'none') {
        expect(changes).toEqual([]);
        return;
      }
      const worst = (['breaking', 'needs-review', 'non-breaking'] as const).find((c) => changes.some((x) => x.class === c));
      expect(worst, JSON.stringify(changes)).toBe(row.expected);
      if (row.mentions) expect(changes.some((c) => `${c.subject}: ${c.message}`.includes(row.mentions!)), JSON.stringify(changes)).toBe(true);
    });
  }
});

describe('type changes', () => {
  it.each([
    ['smallint', 'integer', 'widened'],
    ['integer', 'numeric(10,0)', 'widened'],
    ['integer', 'numeric(9,0)', 'changed'],
    ['bigint', 'double precision', 'changed'],
    ['int', 'integer', 'same'],
    ['varchar', 'text', 'same'],
    ['text', 'varchar(10)', 'changed'],
    ['char(3)', 'varchar(3)', 'widened'],
    ['numeric(10,2)', 'numeric', 'widened'],
    ['numeric', 'numeric(10,2)', 'changed'],
    ['numeric(10,2)', 'numeric(12,4)', 'widened'],
    ['numeric(10,2)', 'numeric(11,4)', 'changed'],
    ['timestamp', 'timestamptz', 'changed'],
    ['date', 'timestamp', 'changed'],
  ] as const)('%s → %s is %s', (from, to, expected) => expect(typeChange(from, to)).toBe(expected));
});

describe('version bumps', () => {
  it.each([
    ['1.2.0', '2.0.0', 'major'],
    ['1.2.0', '1.3.0', 'minor'],
    ['1.2.0', '1.2.1', 'patch'],
    ['1.2.0', '1.2.0', 'none'],
    ['1.2.0', '1.1.9', 'lower'],
    ['0.3.1', '0.4.0', 'major'],
    ['0.3.1', '0.3.2', 'patch'],
  ] as const)('%s → %s is %s', (from, to, expected) => expect(versionBump(from, to)).toBe(expected));
});
