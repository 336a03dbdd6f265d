/**
 * Lineage from the declarations, on product modules read as the catalog reads them (`readProducts`): share views and
 * dashboard objects in a schema of their own are what other products can read, a product's own objects are not
 * lineage, and two products reading each other still give a graph. Also the escaping every page relies on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorId, html, jsonForScript, markdown, markdownCode, pageName } from '../../src/catalog/escape.js';
import { deriveLineage, type ProductLineage } from '../../src/catalog/lineage.js';
import { longestPathLayers, renderGraph } from '../../src/catalog/lineage-graph.js';
import { readProducts } from '../../src/static/read.js';
import { createCliProject, productModule, type CliProject } from '../support/cli.js';

const SHARED = productModule({
  name: 'stock_levels',
  source: "select sku, units from ${table('shop.stock')}",
  columns: [{ name: 'sku', type: 'text' }, { name: 'units', type: 'integer' }],
  serve: ["share({ name: 'partners', to: 'partner_views', rowFilter: 'sku', consumers: ['ACME-1', { id: 'Beta Co', tenant: null }] })"],
});

const CONSUMER = productModule({
  name: 'acme_reorders',
  source: "select sku, units from ${table('partner_views.stock_levels__acme_1')} join ${table('shop.orders')} using (sku)",
  columns: [{ name: 'sku', type: 'text' }, { name: 'units', type: 'integer' }],
});

// two products reading each other's dashboard objects (schema `boards`): a cycle the graph must survive
const PING = productModule({
  name: 'ping_board',
  source: "select sku, units from ${table('boards.pong_totals')}",
  columns: [{ name: 'sku', type: 'text' }, { name: 'units', type: 'integer' }],
  extra: "metrics: { total: { sql: 'sum(units)' } },",
  serve: ["dashboard({ name: 'board', schema: 'boards', objects: [{ name: 'ping_totals', metrics: ['total'], by: ['sku'] }, { name: 'ping_top', sql: sql`select * from ${table('boards.ping_totals')}` }] })"],
});
const PONG = productModule({
  name: 'pong_board',
  source: "select sku, units from ${table('boards.ping_top')}",
  columns: [{ name: 'sku', type: 'text' }, { name: 'units', type: 'integer' }],
  extra: "metrics: { total: { sql: 'sum(units)' } },",
  serve: ["dashboard({ name: 'board', schema: 'boards', objects: [{ name: 'pong_totals', metrics: ['total'], by: ['sku'] }] })"],
});

describe('lineage between products', () => {
  let project: CliProject;
  let lineage: Map<string, ProductLineage>;

  beforeAll(async () => {
    project = await createCliProject({ products: 'none' });
    for (const [name, text] of Object.entries({ stock_levels: SHARED, acme_reorders: CONSUMER, ping_board: PING, pong_board: PONG })) await project.write(`products/${name}.ts`, text);
    const read = await readProducts(project.root);
    expect(read.problems).toEqual([]);
    lineage = deriveLineage(read.products.map((p) => p.product));
  }, 60_000);

  afterAll(async () => {
    await project?.remove();
  });

  it("a share's consumer views are served relations; reading one makes the sharing product upstream", () => {
    expect(lineage.get('stock_levels')!.serves).toEqual([
      { relation: 'partner_views.stock_levels__acme_1', target: 'partners', what: 'share view' },
      { relation: 'partner_views.stock_levels__beta_co', target: 'partners', what: 'share view' },
    ]);
    const consumer = lineage.get('acme_reorders')!;
    expect(consumer.sources).toEqual([
      { relation: 'partner_views.stock_levels__acme_1', via: 'source', servedBy: { product: 'stock_levels', target: 'partners' } },
      { relation: 'shop.orders', via: 'source' },
    ]);
    expect(consumer.upstream).toEqual([{ from: 'stock_levels', fromTarget: 'partners', to: 'acme_reorders', relation: 'partner_views.stock_levels__acme_1', via: 'source' }]);
    expect(lineage.get('stock_levels')!.downstream.map((d) => d.to)).toEqual(['acme_reorders']);
  });

  it("dashboard objects in the target's schema; a product's own objects are not lineage; a cycle still lays out", () => {
    const ping = lineage.get('ping_board')!;
    expect(ping.serves.map((s) => s.relation)).toEqual(['boards.ping_totals', 'boards.ping_top']);
    // ping_top reads ping_totals: its own object, left out
    expect(ping.alsoReads).toEqual([]);
    expect(ping.upstream.map((u) => `${u.from}/${u.relation}`)).toEqual(['pong_board/boards.pong_totals']);
    expect(ping.downstream.map((d) => `${d.to}/${d.relation}`)).toEqual(['pong_board/boards.ping_top']);

    const edges = [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'a' },
      { from: 'b', to: 'c' },
    ];
    const layers = longestPathLayers(['a', 'b', 'c'], edges);
    expect([...layers.values()].every((l) => l >= 0 && l < 3)).toBe(true);
    const svg = renderGraph(
      ['a', 'b', 'c'].map((id) => ({ id, label: `<${id}>`, kind: 'product' as const, layer: layers.get(id)!, href: `${id}.html?x="1"` })),
      edges,
      { title: 'cycle', id: 'g' },
    );
    expect(svg.match(/<g class="node/g)).toHaveLength(3);
    expect(svg.match(/<path class="edge/g)).toHaveLength(3);
    expect(svg).toContain('&lt;a&gt;');
    expect(svg).toContain('href="a.html?x=&quot;1&quot;"');
  });
});

describe('escaping', () => {
  it('HTML, script JSON, anchors, page names and Markdown', () => {
    expect(html(`<b a="1" b='2'>&</b>`)).toBe('&lt;b a=&quot;1&quot; b=&#39;2&#39;&gt;&amp;&lt;/b&gt;');
    expect(jsonForScript({ t: '</script><!--' })).toBe('{"t":"\\u003c/script>\\u003c!--"}');
    expect(JSON.parse(jsonForScript({ t: '</script>' }))).toEqual({ t: '</script>' });
    expect(anchorId('col', 'a b/c')).toBe('col-a-20-b-2f-c');
    expect(pageName('../etc/passwd')).toBe('-2e--2e--2f-etc-2f-passwd.html');
    expect(markdown('a | b <i>*x*</i>\nnext')).toBe('a \\| b &lt;i&gt;\\*x\\*&lt;/i&gt; next');
    expect(markdownCode('a `b` | c')).toBe('``a `b` \\| c``');
  });
});
