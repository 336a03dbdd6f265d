-- OpenLineage events of runs (src/lineage/): an outbox. planRun records a run's START and finishRun its end event
-- (COMPLETE, FAIL or ABORT) in the activity that records the run itself, so a lost worker loses no event; the
-- environment's lineage delivery workflow sends them in event_id order and marks each delivered (or rejected for good).
-- Applied once by src/meta/migrate.ts inside a transaction; never edit after release — add 007_... instead.
create table lastmile.lineage_events (
  event_id bigserial primary key,
  env text not null,
  run_id text not null,
  event_type text not null check (event_type in ('START', 'COMPLETE', 'FAIL', 'ABORT')),
  payload jsonb not null,
  created_at timestamptz not null default now(),
  attempts integer not null default 0,
  last_attempt_at timestamptz,
  last_error text,
  delivered_at timestamptz,
  rejected_at timestamptz
);
-- one START and one end event per run: a repeated activity, or a run closed twice, records nothing more
create unique index lineage_events_once on lastmile.lineage_events (run_id, (event_type = 'START'));
create index lineage_events_pending on lastmile.lineage_events (env, event_id) where delivered_at is null and rejected_at is null;
