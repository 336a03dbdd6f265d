/**
 * `lastmile catalog` as a child process on a throwaway project (the example products, a product reading two others,
 * an invalid module): the files it writes, what they say, that markup from a product never becomes markup, lineage
 * between products, Markdown, a git revision, and the run status it does not have — offline, a store that cannot be
 * opened (a variable not set, a server that does not answer) and an embedded warehouse never started.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, json, killStrays, runCli, type CliProject } from '../support/cli.js';
import { createCatalogProject, HOSTILE } from './project.js';

interface CatalogJson {
  out: string;
  index: string;
  markdown: string;
  revision: string;
  products: { name: string; page: string }[];
  invalidModules: string[];
  store: { env: string; reachable: boolean; reason?: string; description?: string };
}

const NAMES = ['ad_bids', 'lead_scores', 'partner_invoices', 'quality_digest', 'returns_by_supplier', 'supplier_quality_share'];

describe('lastmile catalog', () => {
  let project: CliProject;
  let out: string;
  let result: CatalogJson;
  const page = (name: string): Promise<string> => readFile(path.join(out, 'products', `${name}.html`), 'utf8');

  beforeAll(async () => {
    project = await createCatalogProject();
    out = path.join(project.root, 'site');
    const run = await runCli(['catalog', '--offline', '--out', out, '--json', '--root', project.root]);
    expect(run.code, run.stderr).toBe(0);
    result = json<CatalogJson>(run);
    expect(run.stderr).toContain('1 product module is invalid and left out of the catalog: products/broken_feed.ts');
  }, 120_000);

  afterEach(async () => {
    await killStrays();
  });

  afterAll(async () => {
    await project?.remove();
  });

  it('writes index.html, one page per valid product and catalog.md, and says where', async () => {
    expect(result).toMatchObject({ out, index: path.join(out, 'index.html'), markdown: path.join(out, 'catalog.md'), revision: 'worktree', invalidModules: ['products/broken_feed.ts'] });
    expect(result.products.map((p) => p.name)).toEqual(NAMES);
    expect((await readdir(path.join(out, 'products'))).sort()).toEqual(NAMES.map((n) => `${n}.html`));
    expect(result.store).toEqual({ env: 'dev', reachable: false, reason: 'written with --offline: the metadata store was not read' });
    const index = await readFile(result.index, 'utf8');
    for (const name of NAMES) expect(index).toContain(`<a href="products/${name}.html" class="product-link">${name}</a>`);
    // the invalid module is named with its problem, not silently dropped
    expect(index).toMatch(/1 module is invalid and left out of the catalog[\s\S]*products\/broken_feed\.ts, serve\[0\]\.format/);
    expect(index).toContain('No run or SLO status: written with --offline: the metadata store was not read.');
    // self-contained: no external script, style sheet or image
    for (const file of [result.index, ...result.products.map((p) => p.page)]) {
      const text = await readFile(file, 'utf8');
      expect(text).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|https?:\/\/(?!www\.w3\.org\/2000\/svg)[^"'\s]*\.(js|css)/);
    }
  });

  it('renders markup from a product as text, never as markup — in pages, the search index and Markdown', async () => {
    const digest = await page('quality_digest');
    const index = await readFile(result.index, 'utf8');
    for (const text of [digest, index]) {
      expect(text).not.toContain('<script>window.__pwned');
      expect(text).not.toContain('<img src=x');
      expect(text).toContain('&lt;script&gt;window.__pwned = 1&lt;/script&gt;&lt;img src=x onerror=&quot;window.__pwned = 2&quot;&gt;');
    }
    // the search index is JSON inside a script element: `<` is \u003c there, so nothing can close the element
    const data = /<script type="application\/json" id="catalog-index">([\s\S]*?)<\/script>/.exec(index)![1]!;
    expect(data).not.toContain('<');
    const entries = JSON.parse(data) as { name: string; fields: Record<string, string> }[];
    expect(entries.find((e) => e.name === 'quality_digest')!.fields.description).toContain(HOSTILE);
    const markdown = await readFile(result.markdown, 'utf8');
    expect(markdown).not.toContain('<script>');
    expect(markdown).toContain('&lt;script&gt;window.\\_\\_pwned = 1&lt;/script&gt;');
  });

  it("shows a product's owner, users, docs, contract with classifications, metrics, checks, SLOs and targets with schedules", async () => {
    const digest = await page('quality_digest');
    expect(digest).toContain('<span id="owner">quality-office</span>');
    expect(digest).toContain('<dd id="domain">merchandising</dd>');
    expect(digest).toContain('<td>the head of quality</td><td>calls the three worst suppliers</td>');
    // the doc comment above defineProduct, its `code` kept
    expect(digest).toContain('<p>The Monday digest of the quality review: the worst suppliers of the last twelve weeks.</p>');
    expect(digest).toContain('Built from <code>dashboards.supplier_trend</code>, which the quality_review dashboard refreshes at 05:00.');
    expect(digest).toMatch(/<code id="col-quality_contact">quality_contact<\/code><\/td><td><code>text<\/code><\/td><td>nullable<\/td><td><span class="pill pii">pii<\/span><\/td><td>Who to call at the supplier<\/td>/);
    expect(digest).toMatch(/<code id="col-supplier_id">supplier_id<\/code> <span class="pill">key<\/span>/);
    expect(digest).toContain('<code id="metric-worst_rate">worst_rate</code></td><td><code>max(return_rate_12w)</code>');
    expect(digest).toContain('supplier_id exists in suppliers.supplier_quality_share__quality_analysts.supplier_id');
    expect(digest).toContain('<dt>schedule</dt><dd>0 7 * * 1 (Europe/Berlin)</dd>');
    expect(digest).toContain('<code>products/quality_digest.ts:8:16</code> (read without running it)');
    const returns = await page('returns_by_supplier');
    // declared SLOs, without status offline
    expect(returns).toMatch(/<td>deliverBy<\/td><td>99 %<\/td><td>by 07:00 Europe\/Berlin<\/td><td>28d<\/td>/);
    expect(returns).toContain('<dt>objects</dt><dd>return_rate_weekly (metrics return_rate, units_ordered, units_returned); supplier_trend (sql); review_headline (sql, swap)</dd>');
    const bids = await page('ad_bids');
    // secrets by the variable that holds them
    expect(bids).toContain('HTTP PUT https://ads.example.com/v1/keyword-bids (token from $ADS_API_TOKEN)');
    expect(bids).toContain('0.05 ≤ bid ≤ 5; total bid +20 % at most');
  });

  it('links products that read what another serves, both ways, with the graph and the lists', async () => {
    const digest = await page('quality_digest');
    expect(digest).toContain('<a href="returns_by_supplier.html">returns_by_supplier</a> through <code>dashboards.supplier_trend</code> (quality_review)');
    expect(digest).toContain('<a href="supplier_quality_share.html">supplier_quality_share</a> through <code>suppliers.supplier_quality_share__quality_analysts</code> (supplier_portal)');
    // in the graph: the upstream products link to their pages
    const svg = /<svg class="lineage-graph"[\s\S]*?<\/svg>/.exec(digest)![0];
    expect(svg).toContain('<a href="returns_by_supplier.html"><g class="node n-product"');
    expect(svg).toContain('<a href="#target-digest_csv"><g class="node n-target"');
    const returns = await page('returns_by_supplier');
    expect(returns).toContain('<a href="quality_digest.html">quality_digest</a> reads <code>dashboards.supplier_trend</code> (source)');
    expect(returns).toContain('Read by <a href="quality_digest.html">quality_digest</a> (<code>dashboards.supplier_trend</code>)');
    // a dashboard object reading its own sibling is not lineage between products
    expect(returns).not.toMatch(/Also reads[\s\S]*dashboards\.return_rate_weekly/);
    expect(await page('partner_invoices')).toContain('None: no product reads what it serves.');
    const index = await readFile(result.index, 'utf8');
    expect(index).toContain('<a href="products/quality_digest.html">quality_digest</a> reads <code>dashboards.supplier_trend</code>, served by <a href="products/returns_by_supplier.html">returns_by_supplier</a> (quality_review)');
    expect(index).toContain('<a href="products/quality_digest.html"><g class="node n-product" data-node="product:quality_digest">');
  });

  it('writes the same catalog as Markdown', async () => {
    const markdown = await readFile(result.markdown, 'utf8');
    expect(markdown).toMatch(/^# Data product catalog\n\n6 products, read from worktree at .* UTC\. No run or SLO status: written with --offline/);
    expect(markdown).toContain('| [quality\\_digest](#quality_digest) | merchandising | quality-office |');
    expect(markdown).toContain('## quality\\_digest');
    expect(markdown).toContain('| `quality_contact` | `text` | nullable | pii | Who to call at the supplier |');
    expect(markdown).toContain('- [quality\\_digest](#quality_digest) reads `dashboards.supplier_trend`, served by [returns\\_by\\_supplier](#returns_by_supplier) (quality\\_review)');
    expect(markdown).toContain('- **digest\\_csv** (file exchange), 0 7 \\* \\* 1 (Europe/Berlin)');
  });

  it('writes to .lastmile/catalog by default, replacing pages of products that are gone', async () => {
    const first = await runCli(['catalog', '--offline', '--root', project.root]);
    expect(first.code, first.stderr).toBe(0);
    const dir = path.join(project.root, '.lastmile', 'catalog');
    expect(first.stdout).toContain(`catalog of 6 products written to ${dir}\n  open file://${dir}/index.html\n  markdown ${dir}/catalog.md\n`);
    expect(first.stdout).toContain('no run status: written with --offline: the metadata store was not read');
    await mkdir(path.join(dir, 'products'), { recursive: true });
    await writeFile(path.join(dir, 'products', 'retired_product.html'), 'old');
    await writeFile(path.join(dir, 'notes.txt'), 'mine');
    const again = await runCli(['catalog', '--offline', '--root', project.root]);
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'products', 'retired_product.html'))).toBe(false);
    expect(await readFile(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('without --offline, an embedded warehouse never started gives no status (and is not created for it)', async () => {
    const run = await runCli(['catalog', '--out', path.join(project.root, 'site-dev'), '--root', project.root]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('no run status: the embedded warehouse of this project has never been started (no .lastmile/pg)');
    expect(existsSync(path.join(project.root, '.lastmile', 'pg'))).toBe(false);
    const index = await readFile(path.join(project.root, 'site-dev', 'index.html'), 'utf8');
    expect(index).toContain('<p class="banner offline" id="store-status">No run or SLO status: the embedded warehouse of this project has never been started');
  });

  it('a store that cannot be opened is named in the output and the pages, and the catalog is still written', async () => {
    const unset = await runCli(['catalog', '--env', 'prod', '--out', path.join(project.root, 'site-prod'), '--root', project.root]);
    expect(unset.code, unset.stderr).toBe(0);
    expect(unset.stdout).toMatch(/no run status: the metadata store of prod could not be opened: .*LASTMILE_PROD_WAREHOUSE_URL, which is not set/);
    const digest = await readFile(path.join(project.root, 'site-prod', 'products', 'quality_digest.html'), 'utf8');
    expect(digest).toContain('<h2>Latest run in prod</h2>');
    expect(digest).toMatch(/No run or SLO status: the metadata store of prod could not be opened/);

    // a server that does not answer; the password in the URL never reaches the output
    const port = await freePort();
    const down = await runCli(['catalog', '--env', 'prod', '--json', '--out', path.join(project.root, 'site-down'), '--root', project.root], {
      env: { LASTMILE_PROD_WAREHOUSE_URL: `postgres://reader:hunter2-secret@127.0.0.1:${port}/warehouse` },
    });
    expect(down.code, down.stderr).toBe(0);
    const body = json<CatalogJson>(down);
    expect(body.store.reachable).toBe(false);
    expect(body.store.reason).toMatch(/^the metadata store of prod could not be opened: /);
    expect(down.stdout + down.stderr).not.toContain('hunter2-secret');
    expect(await readFile(path.join(project.root, 'site-down', 'index.html'), 'utf8')).not.toContain('hunter2-secret');
  });

  it('an unknown environment is an error naming the known ones', async () => {
    const run = await runCli(['catalog', '--env', 'staging', '--offline', '--root', project.root]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("unknown environment 'staging'");
  });

  it('--revision reads the products as a commit holds them', async () => {
    const git = await createCatalogProject({ broken: false });
    try {
      const { execFileSync } = await import('node:child_process');
      const args = ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false'];
      execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: git.root });
      execFileSync('git', [...args, 'add', '-A'], { cwd: git.root });
      execFileSync('git', [...args, 'commit', '-q', '-m', 'products'], { cwd: git.root });
      const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: git.root }).toString().trim();
      const file = path.join(git.root, 'products', 'quality_digest.ts');
      await writeFile(file, (await readFile(file, 'utf8')).replace('mailed every Monday', 'mailed every Friday'));
      const site = path.join(git.root, 'site');
      const run = await runCli(['catalog', '--offline', '--revision', 'HEAD', '--json', '--out', site, '--root', git.root]);
      expect(run.code, run.stderr).toBe(0);
      expect(json<CatalogJson>(run).revision).toBe(sha);
      const digest = await readFile(path.join(site, 'products', 'quality_digest.html'), 'utf8');
      expect(digest).toContain('mailed every Monday');
      expect(digest).toContain(`from ${sha}`);
      const now = await runCli(['catalog', '--offline', '--out', site, '--root', git.root]);
      expect(now.code, now.stderr).toBe(0);
      expect(await readFile(path.join(site, 'products', 'quality_digest.html'), 'utf8')).toContain('mailed every Friday');
    } finally {
      await git.remove();
    }
  });
});
