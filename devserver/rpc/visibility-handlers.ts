import type { Engine } from '../engine/engine.js';
import { enumFromType, SYSTEM_ATTRIBUTES, typeFromEnum } from '../engine/search-attributes.js';
import { invalid, RpcError } from '../errors.js';
import { ListFilterError, parseListFilter, type ListFilter } from '../visibility/query.js';
import { h } from './namespace-handlers.js';
import type { AnyHandler } from './server.js';
import type { Execution } from '../engine/execution.js';
import { api, jsonPayload } from '../proto.js';

const GROUP_BY = /\s+group\s+by\s+executionstatus\s*$/i;

function compile(engine: Engine, namespace: string, query: string): ListFilter {
  try {
    return parseListFilter(query, engine.queryableAttributes(namespace));
  } catch (error) {
    if (error instanceof ListFilterError) throw invalid(`invalid query: ${error.message}`);
    throw error;
  }
}

function matching(engine: Engine, namespace: string, filter: ListFilter): Execution[] {
  const out: Execution[] = [];
  for (const ex of engine.runs.values()) {
    if (ex.s.namespace === namespace && filter.matches(engine.visibilityRecord(ex))) out.push(ex);
  }
  return out;
}

const SYSTEM_LIST: Record<string, string> = {
  WorkflowId: 'Keyword',
  RunId: 'Keyword',
  WorkflowType: 'Keyword',
  ExecutionStatus: 'Keyword',
  StartTime: 'Datetime',
  CloseTime: 'Datetime',
  ExecutionTime: 'Datetime',
  TaskQueue: 'Keyword',
};

export function visibilityHandlers(engine: Engine): Record<string, AnyHandler> {
  const list = h<'ListWorkflowExecutionsRequest'>((req) => {
    const namespace = engine.namespace(req.namespace).name;
    const filter = compile(engine, namespace, req.query ?? '');
    const all = matching(engine, namespace, filter).sort((a, b) => filter.compare(engine.visibilityRecord(a), engine.visibilityRecord(b)));
    const offset = req.nextPageToken && req.nextPageToken.length > 0 ? Number(Buffer.from(req.nextPageToken).toString()) : 0;
    if (!Number.isInteger(offset) || offset < 0) throw invalid('next_page_token is malformed');
    const size = req.pageSize && req.pageSize > 0 ? Math.min(req.pageSize, 1000) : 1000;
    const page = all.slice(offset, offset + size);
    return {
      executions: page.map((ex) => engine.executionInfo(ex)),
      nextPageToken: offset + size < all.length ? Buffer.from(String(offset + size)) : Buffer.alloc(0),
    };
  });
  return {
    ListWorkflowExecutions: list,
    ScanWorkflowExecutions: list,
    CountWorkflowExecutions: h<'CountWorkflowExecutionsRequest'>((req) => {
      const namespace = engine.namespace(req.namespace).name;
      const text = req.query ?? '';
      const grouped = GROUP_BY.test(text);
      const filter = compile(engine, namespace, text.replace(GROUP_BY, ''));
      const found = matching(engine, namespace, filter);
      if (!grouped) return { count: found.length };
      const counts = new Map<string, number>();
      for (const ex of found) {
        const status = engine.visibilityRecord(ex).status;
        counts.set(status, (counts.get(status) ?? 0) + 1);
      }
      return {
        count: found.length,
        groups: [...counts].map(([status, count]) => ({ groupValues: [jsonPayload(status)], count })),
      };
    }),
    GetSearchAttributes: h<'GetSearchAttributesRequest'>(() => {
      const keys: Record<string, number> = {};
      for (const [name, type] of engine.registry('default')) keys[name] = enumFromType(type);
      return { keys };
    }),
  };
}

export function operatorHandlers(engine: Engine): Record<string, AnyHandler> {
  type OS = typeof import('@temporalio/proto').temporal.api.operatorservice.v1;
  type Req<K extends keyof OS> = OS[K] extends { prototype: infer I } ? I : never;
  const op = <K extends keyof OS>(fn: (req: Req<K>) => Promise<Record<string, unknown>> | Record<string, unknown>): AnyHandler =>
    fn as AnyHandler;
  return {
    AddSearchAttributes: op<'AddSearchAttributesRequest'>(async (req) => {
      const namespace = engine.namespace(req.namespace || 'default').name;
      const registry = engine.registry(namespace);
      for (const [name, value] of Object.entries(req.searchAttributes ?? {})) {
        const type = typeFromEnum(value);
        if (!type) throw invalid(`search attribute ${name}: unknown type ${value}`);
        if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw invalid(`search attribute name ${JSON.stringify(name)} must start with a letter and use letters, digits and '_'`);
        if (SYSTEM_ATTRIBUTES.has(name) || name in SYSTEM_LIST) throw invalid(`search attribute ${name} is a system attribute`);
        const existing = registry.get(name);
        if (existing && existing !== type) {
          throw new RpcError(6, `search attribute ${name} already exists with type ${existing}`);
        }
      }
      for (const [name, value] of Object.entries(req.searchAttributes ?? {})) {
        engine.setAttribute(namespace, name, typeFromEnum(value) ?? null);
      }
      await engine.commit();
      return {};
    }),
    RemoveSearchAttributes: op<'RemoveSearchAttributesRequest'>(async (req) => {
      const namespace = engine.namespace(req.namespace || 'default').name;
      const registry = engine.registry(namespace);
      for (const name of req.searchAttributes ?? []) {
        if (!registry.has(name)) throw new RpcError(5, `search attribute ${name} is not registered in namespace ${namespace}`);
      }
      for (const name of req.searchAttributes ?? []) engine.setAttribute(namespace, name, null);
      await engine.commit();
      return {};
    }),
    ListSearchAttributes: op<'ListSearchAttributesRequest'>((req) => {
      const namespace = engine.namespace(req.namespace || 'default').name;
      const custom: Record<string, number> = {};
      for (const [name, type] of engine.registry(namespace)) custom[name] = enumFromType(type);
      const system: Record<string, number> = {};
      for (const [name, type] of Object.entries(SYSTEM_LIST)) system[name] = enumFromType(type as 'Keyword');
      for (const [name, type] of SYSTEM_ATTRIBUTES) system[name] = enumFromType(type);
      return { customAttributes: custom, systemAttributes: system, storageSchema: {} };
    }),
  };
}

void api;
