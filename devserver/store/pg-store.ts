import pg from 'pg';
import { SCHEMA_VERSION, schemaSql } from './schema.js';

/** Rows the engine writes in one batch; everything in a batch commits in one statement (one transaction). */
export interface WriteBatch {
  executions: { namespace: string; runId: string; workflowId: string; open: boolean; state: string }[];
  events: { namespace: string; runId: string; eventId: number; data: Buffer }[];
  schedules: { namespace: string; scheduleId: string; state: string | null }[];
  namespaces: { name: string; id: string; info: string }[];
  searchAttributes: { namespace: string; name: string; type: string | null }[];
}

export function emptyBatch(): WriteBatch {
  return { executions: [], events: [], schedules: [], namespaces: [], searchAttributes: [] };
}

export interface LoadedState {
  namespaces: { name: string; id: string; info: string }[];
  searchAttributes: { namespace: string; name: string; type: string }[];
  executions: { namespace: string; runId: string; open: boolean; state: string }[];
  events: { namespace: string; runId: string; data: Buffer }[];
  schedules: { namespace: string; scheduleId: string; state: string }[];
}

/** PostgreSQL persistence of the devserver: load everything at start, then write batches. */
export class PgStore {
  private readonly pool: pg.Pool;
  private readonly s: string;

  constructor(databaseUrl: string, schema = 'lastmile_temporal') {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    this.pool.on('error', () => undefined);
    this.s = `"${schema.replace(/"/g, '""')}"`;
    this.schema = schema;
  }

  readonly schema: string;

  async init(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('select pg_advisory_lock(hashtext($1))', [`lastmile-devserver-schema:${this.schema}`]);
      await client.query(schemaSql(this.schema));
      const version = await client.query<{ version: number }>(`select version from ${this.s}.schema_version`);
      if (version.rowCount === 0) {
        await client.query(`insert into ${this.s}.schema_version values ($1)`, [SCHEMA_VERSION]);
      } else if (version.rows[0].version !== SCHEMA_VERSION) {
        throw new Error(
          `The devserver database schema ${this.schema} is at version ${version.rows[0].version}, this devserver needs ${SCHEMA_VERSION}. ` +
            `Drop the schema (drop schema ${this.schema} cascade) or point --database at another database.`,
        );
      }
      await client.query('select pg_advisory_unlock(hashtext($1))', [`lastmile-devserver-schema:${this.schema}`]);
    } finally {
      client.release();
    }
  }

  /** Holds a session-level lock so that two devservers never share one database schema. */
  async lockOwner(): Promise<void> {
    const client = await this.pool.connect();
    // Held for the server's lifetime: when PostgreSQL goes away first (Ctrl-C reaches the whole process group), the
    // writes report it; the lock connection must not crash the process with an unhandled 'error' event.
    client.on('error', (error) => this.onConnectionLost(error));
    const got = await client.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtext($1)) as ok', [
      `lastmile-devserver-owner:${this.schema}`,
    ]);
    if (!got.rows[0].ok) {
      client.release();
      throw new Error(
        `Another devserver is already using the schema ${this.schema} of this database. Stop it first, or use another --database.`,
      );
    }
    this.ownerClient = client;
  }

  private ownerClient: pg.PoolClient | undefined;

  /** Called when the lock connection breaks (the database stopped or restarted under the devserver). */
  onConnectionLost: (error: Error) => void = () => undefined;

  async load(): Promise<LoadedState> {
    const [namespaces, attrs, executions, events, schedules] = await Promise.all([
      this.pool.query<{ name: string; id: string; info: string }>(`select name, id, info::text as info from ${this.s}.namespaces`),
      this.pool.query<{ namespace: string; name: string; type: string }>(`select namespace, name, type from ${this.s}.search_attributes`),
      this.pool.query<{ namespace: string; run_id: string; open: boolean; state: string }>(
        `select namespace, run_id, open, state from ${this.s}.executions`,
      ),
      this.pool.query<{ namespace: string; run_id: string; data: Buffer }>(
        `select e.namespace, e.run_id, e.data from ${this.s}.history_events e
           join ${this.s}.executions x on x.namespace = e.namespace and x.run_id = e.run_id and x.open
          order by e.namespace, e.run_id, e.event_id`,
      ),
      this.pool.query<{ namespace: string; schedule_id: string; state: string }>(
        `select namespace, schedule_id, state from ${this.s}.schedules where state is not null`,
      ),
    ]);
    return {
      namespaces: namespaces.rows,
      searchAttributes: attrs.rows,
      executions: executions.rows.map((r) => ({ namespace: r.namespace, runId: r.run_id, open: r.open, state: r.state })),
      events: events.rows.map((r) => ({ namespace: r.namespace, runId: r.run_id, data: r.data })),
      schedules: schedules.rows.map((r) => ({ namespace: r.namespace, scheduleId: r.schedule_id, state: r.state })),
    };
  }

  async loadEvents(namespace: string, runId: string): Promise<Buffer[]> {
    const result = await this.pool.query<{ data: Buffer }>(
      `select data from ${this.s}.history_events where namespace = $1 and run_id = $2 order by event_id`,
      [namespace, runId],
    );
    return result.rows.map((r) => r.data);
  }

  /** Writes one batch atomically: a single statement, so one transaction. */
  async write(batch: WriteBatch): Promise<void> {
    const x = batch.executions;
    const e = batch.events;
    const sc = batch.schedules;
    const ns = batch.namespaces;
    const sa = batch.searchAttributes;
    await this.pool.query(
      `with ev as (
         insert into ${this.s}.history_events (namespace, run_id, event_id, data)
         select * from unnest($1::text[], $2::text[], $3::int[], $4::bytea[])
         on conflict (namespace, run_id, event_id) do update set data = excluded.data
       ), ex as (
         insert into ${this.s}.executions (namespace, run_id, workflow_id, open, state)
         select * from unnest($5::text[], $6::text[], $7::text[], $8::boolean[], $9::text[])
         on conflict (namespace, run_id) do update set open = excluded.open, state = excluded.state
       ), sc as (
         insert into ${this.s}.schedules (namespace, schedule_id, state)
         select * from unnest($10::text[], $11::text[], $12::text[])
         on conflict (namespace, schedule_id) do update set state = excluded.state
       ), ns as (
         insert into ${this.s}.namespaces (name, id, info)
         select * from unnest($13::text[], $14::text[], $15::jsonb[])
         on conflict (name) do update set info = excluded.info
       ), sa_del as (
         delete from ${this.s}.search_attributes d
          using unnest($16::text[], $17::text[], $18::text[]) as u(namespace, name, type)
          where u.type is null and d.namespace = u.namespace and d.name = u.name
       )
       insert into ${this.s}.search_attributes (namespace, name, type)
       select namespace, name, type from unnest($16::text[], $17::text[], $18::text[]) as u(namespace, name, type)
        where type is not null
       on conflict (namespace, name) do update set type = excluded.type`,
      [
        e.map((r) => r.namespace),
        e.map((r) => r.runId),
        e.map((r) => r.eventId),
        e.map((r) => r.data),
        x.map((r) => r.namespace),
        x.map((r) => r.runId),
        x.map((r) => r.workflowId),
        x.map((r) => r.open),
        x.map((r) => r.state),
        sc.map((r) => r.namespace),
        sc.map((r) => r.scheduleId),
        sc.map((r) => r.state),
        ns.map((r) => r.name),
        ns.map((r) => r.id),
        ns.map((r) => r.info),
        sa.map((r) => r.namespace),
        sa.map((r) => r.name),
        sa.map((r) => r.type),
      ],
    );
  }

  async close(): Promise<void> {
    this.ownerClient?.release();
    this.ownerClient = undefined;
    await this.pool.end();
  }
}
