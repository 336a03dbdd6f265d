/**
 * The dependency graph of a dashboard's objects: which objects each one reads (declared with `dependsOn`, or
 * referenced as `table('<schema>.<object>')` in its SQL) and the cycles that make an order impossible. The order itself
 * is the workflow's: an object starts once everything it reads is done (workflows/dashboard-refresh.ts).
 */

/** What the graph needs of an object. */
export interface GraphNode {
  readonly name: string;
  readonly dependsOn?: readonly string[];
  /** The tables its SQL reads, as logical `schema.name`. */
  readonly reads?: readonly { readonly schema: string; readonly name: string }[];
}

/** Default logical schema of dashboard objects. */
export const DASHBOARD_SCHEMA = 'dashboards';

/** Object → the objects of the same dashboard it reads (declared or referenced), in declaration order, no repeats. */
export function dependencies(nodes: readonly GraphNode[], schema: string = DASHBOARD_SCHEMA): Map<string, string[]> {
  const names = new Set(nodes.map((node) => node.name));
  const graph = new Map<string, string[]>();
  for (const node of nodes) {
    const referenced = (node.reads ?? []).filter((ref) => ref.schema === schema && names.has(ref.name)).map((ref) => ref.name);
    const all = [...(node.dependsOn ?? []), ...referenced].filter((name) => names.has(name) && name !== node.name);
    graph.set(node.name, [...new Set(all)]);
  }
  return graph;
}

/** A cycle, as the names along it with the first repeated at the end (`a → b → a`), or undefined. */
export function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'visiting');
    path.push(name);
    for (const next of graph.get(name) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of graph.keys()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}
