/** The devserver's tables, in a Postgres schema of their own. Versioned by `schema_version`. */
export const SCHEMA_VERSION = 2;

export function schemaSql(schema: string): string {
  const s = `"${schema.replace(/"/g, '""')}"`;
  return `
create schema if not exists ${s};
create table if not exists ${s}.schema_version (version int not null);
create table if not exists ${s}.namespaces (
  name text primary key,
  id text not null,
  info jsonb not null
);
create table if not exists ${s}.search_attributes (
  namespace text not null,
  name text not null,
  type text not null,
  primary key (namespace, name)
);
create table if not exists ${s}.executions (
  namespace text not null,
  run_id text not null,
  workflow_id text not null,
  open boolean not null,
  -- the run's state as JSON text: written with every change, read only at start, never queried
  state text not null,
  primary key (namespace, run_id)
);
create index if not exists executions_open on ${s}.executions (open) where open;
create table if not exists ${s}.history_events (
  namespace text not null,
  run_id text not null,
  event_id int not null,
  data bytea not null,
  primary key (namespace, run_id, event_id)
);
create table if not exists ${s}.schedules (
  namespace text not null,
  schedule_id text not null,
  state text,
  primary key (namespace, schedule_id)
);
`;
}
