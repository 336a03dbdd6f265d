import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/warehouse/embedded.js';
import type { EmbeddedPostgresHandle } from '../../src/warehouse/embedded.js';
import { checkContractAgainstWarehouse, compileMetricQuery, compileContractQuery, loadProducts, resolveSource } from '../../src/index.js';
import type { WarehouseQuery } from '../../src/index.js';
import { edit, validProductModule } from './support/modules.js';
import { createProject, REPO_ROOT } from './support/project.js';
import type { TempProject } from './support/project.js';

/** The warehouse tables of docs/seed-data.md that the example products read, with a few rows. */
const WAREHOUSE = `
  create schema shop;
  create schema marts;
  create table shop.suppliers (supplier_id text primary key, name text, country text, contact_email text);
  create table shop.ad_campaigns (campaign_id text primary key, platform text, name text, daily_budget numeric(12,2), active boolean);
  create table marts.returns_weekly (supplier_id text, supplier text, week date, units bigint, returns bigint);
  create table marts.partner_invoices (invoice_month date, supplier_id text, supplier text, lines bigint, units bigint, amount numeric(14,2));
  create table marts.supplier_quality (supplier_id text, lot_id text, week date, defects bigint, returns bigint, contact_email text);
  create table marts.lead_scores (lead_id bigint, email text, score numeric(5,4), scored_at timestamptz);
  create table marts.ad_bid_recommendations (campaign_id text, keyword text, bid numeric(8,2), computed_at timestamptz);
  insert into marts.returns_weekly values
    ('SUP-001', 'Alpine Textiles', '2024-01-01', 100, 10),
    ('SUP-001', 'Alpine Textiles', '2024-01-08', 300, 15),
    ('SUP-002', 'Baltic Weave', '2024-01-01', 200, 50);
  create schema marts_test;
  create table marts_test.only_in_test (supplier_id text, supplier text, week date, units bigint, returns bigint);
`;

describe('checking contracts against a real warehouse', () => {
  let tmp: string;
  let server: EmbeddedPostgresHandle;
  let client: pg.Client;
  let project: TempProject;
  let query: WarehouseQuery;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lastmile-pg-'));
    server = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), ephemeral: true });
    await server.ensureDatabase('contract_check');
    client = new pg.Client({ connectionString: server.urlFor('contract_check') });
    await client.connect();
    await client.query(WAREHOUSE);
    query = (text) => client.query(text);
    project = await createProject();
  });

  afterAll(async () => {
    await client?.end();
    await server?.stop();
    await project?.remove();
    await rm(tmp, { recursive: true, force: true });
  });

  it('finds every example product consistent with the documented marts', async () => {
    const products = await loadProducts({ dir: path.join(REPO_ROOT, 'products') });
    expect(await checkContractAgainstWarehouse(products, { query })).toEqual([]);
  });

  it('reports a contract column the source does not return, naming the file and the column field', async () => {
    const file = await project.write(
      'products/missing_column.ts',
      edit(validProductModule('missing_column'), [["{ name: 'returns', type: 'bigint' },", "{ name: 'returns', type: 'bigint' },\n      { name: 'return_reason', type: 'text' },"]]),
    );
    const products = await loadProducts({ dir: project.productsDir });
    const problems = await checkContractAgainstWarehouse(products, { query });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      file,
      path: 'contract.columns[5].name',
      product: 'missing_column',
      message: expect.stringMatching(/promises column 'return_reason', but the source does not return it/),
    });
    await rm(file);
  });

  it('reports a type the source does not deliver, a failing metric and a failing row predicate in one pass', async () => {
    const file = await project.write(
      'products/drifted.ts',
      edit(validProductModule('drifted'), [
        ["{ name: 'units', type: 'bigint' }", "{ name: 'units', type: 'integer' }"],
        ["units_ordered: { sql: 'sum(units)' }", "units_ordered: { sql: 'sum(unitz)' }"],
        ["check.rowPredicate('returns <= units'", "check.rowPredicate('returns <= quantity'"],
      ]),
    );
    const problems = await checkContractAgainstWarehouse(await loadProducts({ dir: project.productsDir }), { query });
    expect(problems.map((problem) => [problem.file, problem.path])).toEqual([
      [file, 'contract.columns[3].type'],
      [file, 'metrics.units_ordered.sql'],
      [file, 'checks[2].expression'],
    ]);
    expect(problems[0].message).toMatch(/says 'units' is integer, but the source returns bigint/);
    expect(problems[1].message).toMatch(/column "unitz" does not exist/);
    await rm(file);
  });

  it('checks dashboard objects and queries before any object exists: SQL, key and index columns, freshness, queries', async () => {
    const objects = "objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }],";
    const good = await project.write(
      'products/board_ok.ts',
      edit(validProductModule('board_ok'), [
        [
          objects,
          `objects: [
        { name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] },
        { name: 'latest', sql: sql\`select supplier_id, max(week) as week from \${table('dashboards.return_rate_weekly')} w group by supplier_id\`, uniqueKey: ['supplier_id'], indexes: [['week']] },
      ],
      queries: { top: sql\`select * from \${table('dashboards.latest')} order by week desc limit 5\` },
      freshness: { object: 'latest', column: 'week' },`,
        ],
      ]),
    );
    expect(await checkContractAgainstWarehouse(await loadProducts({ dir: project.productsDir }), { query })).toEqual([]);
    await rm(good);

    const file = await project.write(
      'products/board_broken.ts',
      edit(validProductModule('board_broken'), [
        [
          objects,
          `objects: [
        { name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] },
        { name: 'latest', sql: sql\`select supplier_id, max(week) as week, count(*) as weeks from \${table('dashboards.return_rate_weekly')} group by supplier_id\`, uniqueKey: ['supplier'], indexes: [['wek']] },
        { name: 'broken', sql: sql\`select suplier_id from \${table('marts.returns_weekly')}\`, refresh: 'swap' },
        { name: 'reads_broken', sql: sql\`select * from \${table('dashboards.broken')}\`, refresh: 'swap' },
      ],
      queries: { top: sql\`select supplier_name from \${table('dashboards.latest')}\` },
      freshness: { object: 'latest', column: 'weeks' },`,
        ],
      ]),
    );
    const problems = await checkContractAgainstWarehouse(await loadProducts({ dir: project.productsDir }), { query });
    expect(problems.map((problem) => [problem.file, problem.path])).toEqual([
      [file, 'serve[0].objects[1].uniqueKey[0]'],
      [file, 'serve[0].objects[1].indexes[0][0]'],
      [file, 'serve[0].objects[2].sql'],
      [file, 'serve[0].objects[3].sql'],
      [file, 'serve[0].freshness.column'],
      [file, 'serve[0].queries.top'],
    ]);
    expect(problems[0]!.message).toMatch(/the unique key column 'supplier' is not a column of object 'latest' \(it returns 'supplier_id', 'week' and 'weeks'\)/);
    expect(problems[1]!.fix).toMatch(/Did you mean 'week'/);
    expect(problems[2]!.message).toMatch(/column "suplier_id" does not exist/);
    expect(problems[3]!.fix).toMatch(/fix 'broken' first/);
    expect(problems[4]!.message).toMatch(/'weeks' of object 'latest' is not a date or timestamp/);
    expect(problems[5]!.message).toMatch(/column "supplier_name" does not exist/);
    await rm(file);
  });

  it('reports a source that fails, and resolves logical schemas through the environment map', async () => {
    const file = await project.write(
      'products/test_only.ts',
      edit(validProductModule('test_only'), [["table('marts.returns_weekly')", "table('marts.only_in_test')"]]),
    );
    const products = await loadProducts({ dir: project.productsDir });
    const problems = await checkContractAgainstWarehouse(products, { query });
    expect(problems).toMatchObject([{ file, path: 'source', message: expect.stringMatching(/relation "marts.only_in_test" does not exist/) }]);
    expect(await checkContractAgainstWarehouse(products, { query, schemas: { marts: 'marts_test' } })).toEqual([]);
    expect(resolveSource(products[0], { marts: 'marts_test' })).toContain('"marts_test"."only_in_test"');
    await rm(file);
  });

  it('compiles metric queries the warehouse runs, with values as parameters', async () => {
    const products = await loadProducts({ dir: path.join(REPO_ROOT, 'products') });
    const returns = products.find((product) => product.name === 'returns_by_supplier')!;
    const compiled = compileMetricQuery(returns, { metrics: ['return_rate', 'units_ordered'], by: ['supplier_id'], where: { supplier: ["Alpine Textiles'; drop table x; --", 'Alpine Textiles'] } });
    const { rows } = await client.query<{ supplier_id: string; return_rate: string; units_ordered: string }>(compiled.text, compiled.values);
    expect(rows).toEqual([{ supplier_id: 'SUP-001', return_rate: '0.06250000000000000000', units_ordered: '400' }]);
    const all = compileMetricQuery(returns, { metrics: ['units_returned'] });
    expect((await client.query(all.text, all.values)).rows).toEqual([{ units_returned: '75' }]);
    const contractRows = await client.query(compileContractQuery(returns));
    expect(contractRows.fields.map((field) => field.name)).toEqual(['supplier_id', 'supplier', 'week', 'units', 'returns']);
  });
});
