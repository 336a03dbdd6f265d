/**
 * The project the catalog tests read: the repository's five example products, plus `quality_digest` — a product that
 * reads another product's dashboard object (and, through a check, a share view), with a doc comment and a description
 * carrying markup that must show as text — plus one invalid module that the catalog leaves out and names.
 */
import { createCliProject, type CliProject } from '../support/cli.js';

/** What the description carries: if it ever ran, `window.__pwned` would be set. */
export const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

export const QUALITY_DIGEST = `import { check, defineProduct, files, sql, table } from 'lastmile';

/**
 * The Monday digest of the quality review: the worst suppliers of the last twelve weeks.
 *
 * Built from \`dashboards.supplier_trend\`, which the quality_review dashboard refreshes at 05:00.
 */
export default defineProduct({
  name: 'quality_digest',
  version: '0.3.0',
  owner: { team: 'quality-office', email: 'quality-office@example.com' },
  domain: 'merchandising',
  description: 'Worst suppliers by 12-week return rate ${HOSTILE.replace(/'/g, "\\\\'")}, mailed every Monday.',
  audience: 'internal',
  users: [{ who: 'the head of quality', action: 'calls the three worst suppliers' }],
  source: sql\`select supplier_id, supplier, return_rate_12w, null::text as quality_contact from \${table('dashboards.supplier_trend')}\`,
  contract: {
    key: ['supplier_id'],
    columns: [
      { name: 'supplier_id', type: 'text', nullable: false, description: 'Supplier code' },
      { name: 'supplier', type: 'text' },
      { name: 'return_rate_12w', type: 'numeric', description: 'Returned units per ordered unit over twelve weeks' },
      { name: 'quality_contact', type: 'text', classification: 'pii', description: 'Who to call at the supplier' },
    ],
  },
  metrics: { worst_rate: { sql: 'max(return_rate_12w)', description: 'The highest twelve-week return rate' } },
  checks: [
    check.notNull('supplier_id'),
    check.references('supplier_id', { table: table('suppliers.supplier_quality_share__quality_analysts'), column: 'supplier_id' }),
  ],
  serve: [files({ name: 'digest_csv', format: 'csv', to: './exchange/digest', schedule: { cron: '0 7 * * 1', timezone: 'Europe/Berlin' } })],
});
`;

/** A module with a typo in a field name: invalid, so left out. */
export const BROKEN = `import { defineProduct, table } from 'lastmile';

export default defineProduct({
  name: 'broken_feed',
  version: '1.0.0',
  owner: { team: 'nobody', email: 'nobody@example.com' },
  domain: 'testing',
  description: 'Invalid on purpose.',
  audience: 'internal',
  users: [{ who: 'nobody', action: 'nothing' }],
  source: table('marts.nothing'),
  contract: { key: [], columns: [{ name: 'a', type: 'text' }] },
  serve: [{ kind: 'files', name: 'out', format: 'csvv', to: './exchange/x' }],
});
`;

export async function createCatalogProject(options: { broken?: boolean } = {}): Promise<CliProject> {
  const project = await createCliProject();
  await project.write('products/quality_digest.ts', QUALITY_DIGEST);
  if (options.broken !== false) await project.write('products/broken_feed.ts', BROKEN);
  return project;
}
