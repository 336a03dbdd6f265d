/**
 * Lineage drawn as an inline SVG: nodes in columns (layers), edges as curves from left to right. No script and no
 * external file: the picture is part of the page. Nodes may link (`href`) to a product page or a section.
 */
import { html } from './escape.js';

export type GraphNodeKind = 'table' | 'product' | 'self' | 'target';

export interface GraphNode {
  readonly id: string;
  readonly label: string;
  readonly sublabel?: string;
  readonly kind: GraphNodeKind;
  readonly href?: string;
  /** column, from 0 at the left */
  readonly layer: number;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** drawn dashed: a secondary read (a check's, a dashboard object's) */
  readonly secondary?: boolean;
}

const NODE_WIDTH = 220;
const NODE_HEIGHT = 42;
const COLUMN_GAP = 70;
const ROW_GAP = 14;
const PAD = 10;
const MAX_CHARS = 25;

/** The layer of each node by the longest path from a node without inputs (a cycle is cut where it closes). */
export function longestPathLayers(ids: readonly string[], edges: readonly GraphEdge[]): Map<string, number> {
  const layer = new Map(ids.map((id) => [id, 0]));
  // at most |nodes| rounds of relaxation: a path longer than that goes round a cycle
  for (let round = 0; round < ids.length; round++) {
    let changed = false;
    for (const edge of edges) {
      const next = (layer.get(edge.from) ?? 0) + 1;
      if (layer.has(edge.to) && next > layer.get(edge.to)! && next < ids.length) {
        layer.set(edge.to, next);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return layer;
}

/** The graph as an `<svg>` element (with a `<title>` naming it for screen readers). */
export function renderGraph(nodes: readonly GraphNode[], edges: readonly GraphEdge[], options: { title: string; id: string }): string {
  if (nodes.length === 0) return '';
  const columns = orderColumns(nodes, edges);
  const rows = Math.max(...columns.map((c) => c.length));
  const width = PAD * 2 + columns.length * NODE_WIDTH + (columns.length - 1) * COLUMN_GAP;
  const height = PAD * 2 + rows * NODE_HEIGHT + (rows - 1) * ROW_GAP;
  const place = new Map<string, { x: number; y: number }>();
  columns.forEach((column, index) => {
    // each column centred vertically
    const offset = ((rows - column.length) * (NODE_HEIGHT + ROW_GAP)) / 2;
    column.forEach((node, row) => place.set(node.id, { x: PAD + index * (NODE_WIDTH + COLUMN_GAP), y: PAD + offset + row * (NODE_HEIGHT + ROW_GAP) }));
  });
  const marker = `${options.id}-arrow`;
  const curves = edges.flatMap((edge) => {
    const a = place.get(edge.from);
    const b = place.get(edge.to);
    if (!a || !b) return [];
    const x1 = a.x + NODE_WIDTH;
    const y1 = a.y + NODE_HEIGHT / 2;
    const x2 = b.x - 2;
    const y2 = b.y + NODE_HEIGHT / 2;
    const bend = Math.max(30, (x2 - x1) / 2);
    return [
      `<path class="edge${edge.secondary ? ' secondary' : ''}" d="M${x1} ${y1} C${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}" marker-end="url(#${marker})"/>`,
    ];
  });
  const boxes = nodes.map((node) => {
    const { x, y } = place.get(node.id)!;
    const title = `<title>${html(node.label)}${node.sublabel ? ` — ${html(node.sublabel)}` : ''}</title>`;
    const label = `<text class="label" x="${x + 10}" y="${y + (node.sublabel ? 17 : 26)}">${html(cut(node.label))}</text>`;
    const sub = node.sublabel ? `<text class="sublabel" x="${x + 10}" y="${y + 33}">${html(cut(node.sublabel, MAX_CHARS + 4))}</text>` : '';
    const box = `<g class="node n-${node.kind}" data-node="${html(node.id)}">${title}<rect x="${x}" y="${y}" width="${NODE_WIDTH}" height="${NODE_HEIGHT}" rx="6"/>${label}${sub}</g>`;
    return node.href ? `<a href="${html(node.href)}">${box}</a>` : box;
  });
  return [
    `<svg class="lineage-graph" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">`,
    `<title>${html(options.title)}</title>`,
    `<defs><marker id="${html(marker)}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" class="arrow"/></marker></defs>`,
    ...curves,
    ...boxes,
    '</svg>',
  ].join('\n');
}

/** Nodes by column; within a column, ordered by the mean row of their inputs (one sweep), so fewer edges cross. */
function orderColumns(nodes: readonly GraphNode[], edges: readonly GraphEdge[]): GraphNode[][] {
  const count = Math.max(...nodes.map((n) => n.layer)) + 1;
  const columns: GraphNode[][] = Array.from({ length: count }, () => []);
  for (const node of nodes) columns[node.layer]!.push(node);
  const row = new Map<string, number>();
  columns[0]!.forEach((node, index) => row.set(node.id, index));
  for (const column of columns.slice(1)) {
    const weight = (node: GraphNode, index: number): number => {
      const inputs = edges.filter((e) => e.to === node.id && row.has(e.from)).map((e) => row.get(e.from)!);
      return inputs.length > 0 ? inputs.reduce((a, b) => a + b, 0) / inputs.length : index;
    };
    const weighted = column.map((node, index) => ({ node, w: weight(node, index), index }));
    weighted.sort((a, b) => a.w - b.w || a.index - b.index);
    column.splice(0, column.length, ...weighted.map((w) => w.node));
    column.forEach((node, index) => row.set(node.id, index));
  }
  return columns.filter((c) => c.length > 0);
}

function cut(text: string, max = MAX_CHARS): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
