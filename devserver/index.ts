import { recoverActivity } from './engine/activities.js';
import { DEFAULT_LIMITS, Engine, type Limits } from './engine/engine.js';
import { executionHandlers } from './rpc/execution-handlers.js';
import { namespaceHandlers } from './rpc/namespace-handlers.js';
import { startGrpcServer } from './rpc/server.js';
import { failOversizedReport } from './rpc/oversized.js';
import { taskHandlers } from './rpc/task-handlers.js';
import { updateHandlers } from './rpc/update-handlers.js';
import { resetHandlers } from './rpc/reset-handler.js';
import { operatorHandlers, visibilityHandlers } from './rpc/visibility-handlers.js';
import { PgStore } from './store/pg-store.js';
import { scheduleHost } from './rpc/schedule-host.js';
import { ScheduleService } from './schedules/service.js';
import type { AnyHandler } from './rpc/server.js';

export interface DevServerOptions {
  /** TCP port; 7233 by default, 0 for any free port */
  port?: number;
  host?: string;
  /** PostgreSQL URL holding the devserver's state; give this or `database` */
  databaseUrl?: string;
  /**
   * Starts (or finds) the PostgreSQL that holds the state when no `databaseUrl` is given, e.g. an embedded one;
   * its `stop` runs after the server has stopped.
   */
  database?: () => Promise<DevServerDatabase>;
  /** schema of the devserver's tables (default `lastmile_temporal`) */
  schema?: string;
  limits?: Partial<Limits>;
  log?: (line: string) => void;
}

export interface DevServer {
  /** host:port for Temporal clients and workers */
  address: string;
  namespace: string;
  /**
   * Settles once the server has stopped serving: `undefined` after `stop()`, or the error that stopped it on its own
   * (its database went away, a write failed) — whoever embeds the server can then stop too instead of serving nothing.
   */
  readonly done: Promise<Error | undefined>;
  stop(): Promise<void>;
}

/** A PostgreSQL database for the devserver's state, started for it by whoever embeds the server. */
export interface DevServerDatabase {
  url: string;
  stop(): Promise<void>;
}

/** Starts the embedded Temporal-compatible server. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const log = options.log ?? (() => undefined);
  let embedded: DevServerDatabase | undefined;
  let databaseUrl = options.databaseUrl;
  if (!databaseUrl) {
    if (!options.database) throw new TypeError('startDevServer needs a PostgreSQL for its state: pass databaseUrl or a database starter');
    embedded = await options.database();
    databaseUrl = embedded.url;
  }
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const store = new PgStore(databaseUrl, options.schema);
  const engine = new Engine(store, { limits, log });
  engine.activityHooks = { recover: (ex, id) => recoverActivity(engine, ex, id) };
  let grpcServer: Awaited<ReturnType<typeof startGrpcServer>> | undefined;
  let schedules: ScheduleService | undefined;
  try {
    await store.init();
    await store.lockOwner();
    const { schedules: savedSchedules } = await engine.load();
    schedules = new ScheduleService(scheduleHost(engine), log);
    schedules.load(savedSchedules);
    const sched = schedules;
    const scheduleHandlers: Record<string, AnyHandler> = {
      CreateSchedule: (req: unknown) => sched.createSchedule(req as Parameters<ScheduleService['createSchedule']>[0]),
      DescribeSchedule: (req: unknown) => sched.describeSchedule(req as Parameters<ScheduleService['describeSchedule']>[0]),
      UpdateSchedule: (req: unknown) => sched.updateSchedule(req as Parameters<ScheduleService['updateSchedule']>[0]),
      PatchSchedule: (req: unknown) => sched.patchSchedule(req as Parameters<ScheduleService['patchSchedule']>[0]),
      DeleteSchedule: (req: unknown) => sched.deleteSchedule(req as Parameters<ScheduleService['deleteSchedule']>[0]),
      ListSchedules: (req: unknown) => sched.listSchedules(req as Parameters<ScheduleService['listSchedules']>[0]),
      CountSchedules: (req: unknown) => sched.countSchedules(req as Parameters<ScheduleService['countSchedules']>[0]),
      ListScheduleMatchingTimes: (req: unknown) =>
        sched.listScheduleMatchingTimes(req as Parameters<ScheduleService['listScheduleMatchingTimes']>[0]),
    } as unknown as Record<string, AnyHandler>;
    const host = options.host ?? '127.0.0.1';
    grpcServer = await startGrpcServer(
      host,
      options.port ?? 7233,
      [
        {
          name: 'temporal.api.workflowservice.v1.WorkflowService',
          handlers: {
            ...namespaceHandlers(engine),
            ...executionHandlers(engine),
            ...taskHandlers(engine),
            ...updateHandlers(engine),
            ...resetHandlers(engine),
            ...visibilityHandlers(engine),
            ...scheduleHandlers,
          },
        },
        { name: 'temporal.api.operatorservice.v1.OperatorService', handlers: operatorHandlers(engine) },
        { name: 'grpc.health.v1.Health', handlers: { Check: () => ({ status: 1 }) } },
      ],
      { payloadLimit: limits.payloadBytes, log, onOversized: (method, request, error) => failOversizedReport(engine, method, request, error) },
    );
    const address = `${host}:${grpcServer.port}`;
    let stopped = false;
    let settle: (error: Error | undefined) => void = () => undefined;
    const done = new Promise<Error | undefined>((resolve) => (settle = resolve));
    const server = grpcServer.server;
    engine.onFatal = (error) => {
      if (stopped) return;
      stopped = true;
      log(`devserver: stopping after a fatal error: ${error.message}`);
      schedules?.stop();
      engine.stop();
      server.forceShutdown();
      settle(error);
    };
    store.onConnectionLost = (error) => engine.onFatal(new Error(`The devserver lost its database: ${error.message}`));
    return {
      address,
      namespace: 'default',
      done,
      async stop() {
        if (stopped) {
          // stopped on its own after a fatal error: what is left to close
          await store.close().catch(() => undefined);
          await embedded?.stop();
          return;
        }
        stopped = true;
        settle(undefined);
        schedules?.stop();
        engine.stop();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, 2000);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        await engine.commit().catch(() => undefined);
        await store.close();
        await embedded?.stop();
      },
    };
  } catch (error) {
    grpcServer?.server.forceShutdown();
    schedules?.stop();
    engine.stop();
    await store.close().catch(() => undefined);
    await embedded?.stop();
    throw error;
  }
}
