-- Reverse ETL (src/reverse-etl): the synced state per record, each run's frozen plan, its batches and the sync log.
-- Applied once by src/meta/migrate.ts inside a transaction; never edit after release — add 006_... instead.

-- The state a destination acknowledged, per record: the hash and values last applied (a guardrail compares totals
-- with them; a mirror delete sends them), the destination's own id, and a rejection still standing.
alter table lastmile.sync_state
  alter column hash drop not null,
  add column record jsonb,
  add column remote_id text,
  add column status text not null default 'applied' check (status in ('applied', 'rejected')),
  add column reason text,
  add column rejected_hash text;

-- One row per sync run of a target: its frozen plan's counts, the guardrails' verdicts, the decision, the outcome.
create table lastmile.sync_runs (
  run_id text primary key,
  env text not null,
  product text not null,
  target text not null,
  workflow_id text,
  mode text not null,
  destination text not null,
  state text not null check (state in ('planned', 'held', 'approved', 'rejected', 'abandoned', 'applying', 'applied', 'failed')),
  counts jsonb not null,
  verdicts jsonb not null,
  batches integer not null,
  batch_size integer not null,
  outcome jsonb,
  -- the acknowledged operations were merged into sync_state
  folded boolean not null default false,
  -- the state keeps each record's values (a mirror's deletes send them, a totals guardrail sums them)
  keeps_records boolean not null default true,
  decided_by text,
  decision_reason text,
  decided_at timestamptz,
  created_at timestamptz not null default now(),
  finished_at timestamptz
);
create index sync_runs_target on lastmile.sync_runs (env, product, target, created_at desc);

-- The frozen plan and the sync log in one: every operation of a run with its outcome, reason and attempts.
create table lastmile.sync_ops (
  run_id text not null references lastmile.sync_runs (run_id) on delete cascade,
  seq integer not null,
  batch integer not null,
  key text,
  op text not null check (op in ('insert', 'update', 'upsert', 'delete')),
  record jsonb,
  hash text,
  remote_id text,
  status text not null default 'pending' check (status in ('pending', 'applied', 'unchanged', 'rejected', 'transient')),
  reason text,
  attempt integer not null default 0,
  finished_at timestamptz,
  primary key (run_id, seq)
);
create index sync_ops_batch on lastmile.sync_ops (run_id, batch);
-- room on every page: recording a row's outcome updates it in place (a HOT update) instead of moving it
alter table lastmile.sync_ops set (fillfactor = 60);

-- Each batch's send: the round names its idempotency key; sent but not acknowledged is an unknown outcome.
create table lastmile.sync_batches (
  run_id text not null references lastmile.sync_runs (run_id) on delete cascade,
  batch integer not null,
  round integer not null default 0,
  sent_at timestamptz,
  acked_at timestamptz,
  primary key (run_id, batch)
);

alter table lastmile.runs drop constraint runs_status_check;
alter table lastmile.runs add constraint runs_status_check
  check (status in ('running', 'succeeded', 'failed', 'blocked', 'incomplete', 'partial', 'canceled'));
alter table lastmile.target_runs drop constraint target_runs_status_check;
alter table lastmile.target_runs add constraint target_runs_status_check
  check (status in ('running', 'succeeded', 'failed', 'skipped', 'blocked', 'partial', 'canceled'));

-- when an applying run last acknowledged a batch: a run silent for long is taken as dead by the next sync
alter table lastmile.sync_runs add column touched_at timestamptz;
