import type { temporal } from '@temporalio/proto';
import type { Engine, NamespaceRecord } from '../engine/engine.js';
import { invalid } from '../errors.js';
import { durMs, msDur } from '../proto.js';
import type { Handler } from './context.js';
import type { AnyHandler } from './server.js';

type WS = typeof temporal.api.workflowservice.v1;
type Req<K extends keyof WS> = WS[K] extends { prototype: infer I } ? I : never;

export const SERVER_VERSION = '1.27.0-lastmile';

export function h<K extends keyof WS>(fn: Handler<Req<K>>): AnyHandler {
  return fn as AnyHandler;
}

function describe(engine: Engine, record: NamespaceRecord): Record<string, unknown> {
  return {
    namespaceInfo: {
      name: record.name,
      state: 1, // NAMESPACE_STATE_REGISTERED
      description: record.description,
      ownerEmail: record.ownerEmail,
      data: record.data,
      id: record.id,
      supportsSchedules: true,
      capabilities: {
        eagerWorkflowStart: false,
        syncUpdate: false,
        asyncUpdate: false,
        workerPollCompleteOnShutdown: true,
      },
      limits: {
        blobSizeLimitError: engine.limits.payloadBytes,
      },
    },
    config: {
      workflowExecutionRetentionTtl: msDur(record.retentionMs),
      historyArchivalState: 2,
      visibilityArchivalState: 2,
    },
    replicationConfig: { activeClusterName: 'active', clusters: [{ clusterName: 'active' }], state: 0 },
    isGlobalNamespace: false,
  };
}

export function namespaceHandlers(engine: Engine): Record<string, AnyHandler> {
  return {
    GetSystemInfo: h<'GetSystemInfoRequest'>(() => ({
      serverVersion: SERVER_VERSION,
      capabilities: {
        signalAndQueryHeader: true,
        internalErrorDifferentiation: false,
        activityFailureIncludeHeartbeat: true,
        supportsSchedules: true,
        encodedFailureAttributes: true,
        buildIdBasedVersioning: false,
        upsertMemo: true,
        eagerWorkflowStart: false,
        sdkMetadata: true,
        countGroupByExecutionStatus: true,
        nexus: false,
      },
    })),
    GetClusterInfo: h<'GetClusterInfoRequest'>(() => ({
      supportedClients: {},
      serverVersion: SERVER_VERSION,
      clusterId: 'lastmile-devserver',
      clusterName: 'active',
      historyShardCount: 1,
      persistenceStore: 'postgres',
      visibilityStore: 'postgres',
    })),
    DescribeNamespace: h<'DescribeNamespaceRequest'>((req) => {
      if (req.id) {
        const record = [...engine.namespaces.values()].find((n) => n.id === req.id);
        return describe(engine, record ?? engine.namespace(req.id));
      }
      return describe(engine, engine.namespace(req.namespace));
    }),
    ListNamespaces: h<'ListNamespacesRequest'>((req) => {
      const all = [...engine.namespaces.values()].sort((a, b) => a.name.localeCompare(b.name));
      const start = req.nextPageToken && req.nextPageToken.length > 0 ? Number(Buffer.from(req.nextPageToken).toString()) : 0;
      if (!Number.isInteger(start) || start < 0) throw invalid('next_page_token is malformed');
      const size = req.pageSize && req.pageSize > 0 ? req.pageSize : 100;
      const page = all.slice(start, start + size);
      return {
        namespaces: page.map((record) => describe(engine, record)),
        nextPageToken: start + size < all.length ? Buffer.from(String(start + size)) : Buffer.alloc(0),
      };
    }),
    RegisterNamespace: h<'RegisterNamespaceRequest'>(async (req) => {
      if (!req.namespace) throw invalid('Namespace is not set on request.');
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(req.namespace)) {
        throw invalid(`namespace name ${JSON.stringify(req.namespace)} may use letters, digits, '.', '_' and '-' only`);
      }
      engine.registerNamespace({
        name: req.namespace,
        description: req.description ?? '',
        ownerEmail: req.ownerEmail ?? '',
        retentionMs: durMs(req.workflowExecutionRetentionPeriod) || 3 * 86400_000,
        data: { ...(req.data ?? {}) },
      });
      await engine.commit();
      return {};
    }),
    UpdateNamespace: h<'UpdateNamespaceRequest'>(async (req) => {
      const record = { ...engine.namespace(req.namespace) };
      if (req.updateInfo) {
        if (req.updateInfo.description) record.description = req.updateInfo.description;
        if (req.updateInfo.ownerEmail) record.ownerEmail = req.updateInfo.ownerEmail;
        record.data = { ...record.data, ...(req.updateInfo.data ?? {}) };
      }
      if (req.config?.workflowExecutionRetentionTtl) record.retentionMs = durMs(req.config.workflowExecutionRetentionTtl);
      engine.saveNamespace(record);
      await engine.commit();
      return describe(engine, record);
    }),
  };
}
