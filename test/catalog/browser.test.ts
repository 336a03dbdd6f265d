/**
 * The catalog in a real browser: Debian's Chromium driven by playwright-core, the pages opened from file:// as a
 * reader opens them (no server). The search filters as one types and from `?q=`, product links lead to pages that
 * show the contract, metrics, targets and lineage, markup from a product never runs, and a screenshot has content
 * (decoded and counted, against a blank page that the same check refuses).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliProject } from '../support/cli.js';
import { decodePng, pixelStats } from '../support/png.js';
import { createCatalogProject } from './project.js';

const CHROMIUM = '/usr/bin/chromium';

describe('the catalog in Chromium', () => {
  let project: CliProject;
  let browser: Browser;
  let page: Page;
  let indexUrl: string;
  const errors: string[] = [];

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium)`).toBe(true);
    project = await createCatalogProject();
    const out = path.join(project.root, 'catalog site');
    const run = await runCli(['catalog', '--offline', '--out', out, '--root', project.root]);
    expect(run.code, run.stderr).toBe(0);
    indexUrl = pathToFileURL(path.join(out, 'index.html')).href;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await project?.remove();
  });

  const visibleProducts = async (): Promise<string[]> =>
    await page.$$eval('tr[data-product]', (rows) => rows.filter((row) => !(row as HTMLElement).hidden).map((row) => row.getAttribute('data-product')!));

  it('lists every product and filters them as one types: columns, classifications, domains, several words', async () => {
    await page.goto(indexUrl);
    expect(await page.textContent('#result-count')).toBe('6 products');
    expect(await visibleProducts()).toHaveLength(6);

    await page.fill('#search', 'supplier_id');
    expect(await visibleProducts()).toEqual(['partner_invoices', 'quality_digest', 'returns_by_supplier', 'supplier_quality_share']);
    expect(await page.textContent('#result-count')).toBe('4 of 6 products match');
    expect(await page.textContent('tr[data-product="partner_invoices"] .match')).toBe('matches in columns');

    await page.fill('#search', 'pii');
    expect(await visibleProducts()).toEqual(['lead_scores', 'quality_digest', 'supplier_quality_share']);

    await page.fill('#search', 'merchandising quality');
    expect(await visibleProducts()).toEqual(['quality_digest', 'returns_by_supplier']);

    // typed key by key, as a person does
    await page.fill('#search', '');
    await page.locator('#search').pressSequentially('hot_le');
    expect(await visibleProducts()).toEqual(['lead_scores']);
    expect(await page.textContent('tr[data-product="lead_scores"] .match')).toBe('matches in metrics');

    await page.fill('#search', 'no such thing anywhere');
    expect(await visibleProducts()).toEqual([]);
    expect(await page.isVisible('#no-results')).toBe(true);

    await page.fill('#search', '');
    expect(await visibleProducts()).toHaveLength(6);
    expect(await page.isVisible('#no-results')).toBe(false);
  });

  it("a product's link opens its page: contract, metrics, targets and lineage, and markup from the product stays text", async () => {
    await page.goto(indexUrl);
    await page.fill('#search', 'digest');
    await page.click('tr[data-product="quality_digest"] a.product-link');
    await page.waitForURL(/\/products\/quality_digest\.html$/);
    expect(await page.textContent('h1')).toContain('quality_digest');
    // the description's <script> and <img onerror> are shown, never run
    expect(await page.textContent('#description')).toContain('<script>window.__pwned = 1</script>');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.$$eval('main script, main img', (nodes) => nodes.length)).toBe(0);

    const columns = await page.$$eval('table.columns tbody tr', (rows) => rows.map((row) => [...row.querySelectorAll('td')].map((td) => td.textContent!.trim())));
    expect(columns).toEqual([
      ['supplier_id key', 'text', 'not null', 'internal', 'Supplier code'],
      ['supplier', 'text', 'nullable', 'internal', 'no description'],
      ['return_rate_12w', 'numeric', 'nullable', 'internal', 'Returned units per ordered unit over twelve weeks'],
      ['quality_contact', 'text', 'nullable', 'pii', 'Who to call at the supplier'],
    ]);
    expect(await page.$$eval('table.metrics tbody tr td:first-child', (cells) => cells.map((c) => c.textContent))).toEqual(['worst_rate']);
    expect(await page.textContent('#target-digest_csv')).toContain('digest_csv');
    expect(await page.textContent('#targets')).toContain('0 7 * * 1 (Europe/Berlin)');
    expect(await page.isVisible('#lineage svg.lineage-graph')).toBe(true);
    expect(await page.$$eval('#lineage svg .node', (nodes) => nodes.map((n) => n.getAttribute('data-node')))).toEqual([
      'product:quality_digest',
      'product:returns_by_supplier:dashboards.supplier_trend',
      'product:supplier_quality_share:suppliers.supplier_quality_share__quality_analysts',
      'target:digest_csv',
    ]);

    // a section anchor, then the upstream product's node in the graph
    await page.click('nav.sections a[href="#metrics"]');
    expect(page.url()).toMatch(/#metrics$/);
    await page.click('#lineage svg a[href="returns_by_supplier.html"]');
    await page.waitForURL(/\/products\/returns_by_supplier\.html$/);
    expect(await page.textContent('#lineage')).toContain('quality_digest reads dashboards.supplier_trend');
    expect(errors).toEqual([]);
  });

  it("the search box of a product page searches the index (?q= fills the index's box)", async () => {
    await page.fill('header.top input[name=q]', 'invoice');
    await page.press('header.top input[name=q]', 'Enter');
    await page.waitForURL(/\/index\.html\?q=invoice$/);
    expect(await page.inputValue('#search')).toBe('invoice');
    expect(await visibleProducts()).toEqual(['partner_invoices']);
    expect(await page.textContent('#result-count')).toBe('1 of 6 products match');
  });

  it('a screenshot of a product page has content; the same check refuses a blank page', async () => {
    const blank = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await blank.goto('about:blank');
      const empty = pixelStats(decodePng(await blank.screenshot()));
      expect(empty).toEqual({ distinctColors: 1, foregroundShare: 0 });
    } finally {
      await blank.close();
    }
    await page.goto(indexUrl.replace(/index\.html$/, 'products/returns_by_supplier.html'));
    const png = decodePng(await page.screenshot({ fullPage: true }));
    expect(png.width).toBe(1280);
    expect(png.height).toBeGreaterThan(900);
    const stats = pixelStats(png);
    // text, tables, the header bar and the graph: many colours, and a good share of the page not background
    expect(stats.distinctColors).toBeGreaterThan(100);
    expect(stats.foregroundShare).toBeGreaterThan(0.05);
  });
});
