-- lastmile metadata store: what ran, what it checked, what it served, what is deployed where.
-- Applied once by src/meta/migrate.ts inside a transaction; never edit after release — add 002_... instead.

-- One row per serving run of a product in an environment (a workflow execution).
create table lastmile.runs (
  run_id text primary key,
  product text not null,
  env text not null,
  product_version text,
  git_sha text,
  status text not null default 'running'
    check (status in ('running', 'succeeded', 'failed', 'blocked', 'canceled')),
  trigger text not null check (trigger in ('manual', 'schedule', 'dev')),
  workflow_id text,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  rows bigint,
  defect_rate double precision,
  checks jsonb,
  error text,
  check (finished_at is null or finished_at >= started_at)
);
create index runs_env_product_started on lastmile.runs (env, product, started_at desc);
create index runs_started on lastmile.runs (started_at desc);

-- One row per target (dashboard, files, sharing, reverse ETL…) served by a run.
create table lastmile.target_runs (
  run_id text not null references lastmile.runs (run_id) on delete cascade,
  target text not null,
  kind text not null,
  status text not null check (status in ('running', 'succeeded', 'failed', 'skipped', 'blocked', 'canceled')),
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  rows bigint,
  bytes bigint,
  detail jsonb,
  error text,
  primary key (run_id, target)
);

-- Outcome of each validation check of a run.
create table lastmile.check_results (
  run_id text not null references lastmile.runs (run_id) on delete cascade,
  check_name text not null,
  kind text not null,
  severity text not null check (severity in ('error', 'warn')),
  status text not null check (status in ('passed', 'failed', 'error', 'skipped')),
  failing bigint not null default 0,
  sample jsonb,
  sql text,
  recorded_at timestamptz not null default now(),
  primary key (run_id, check_name)
);

-- Service level indicator measurements (freshness, availability, defect-free…), with or without a run.
create table lastmile.sli_measurements (
  measurement_id bigint generated always as identity primary key,
  product text not null,
  env text not null,
  run_id text references lastmile.runs (run_id) on delete set null,
  sli text not null,
  value double precision not null,
  good boolean not null,
  measured_at timestamptz not null default now()
);
create index sli_measurements_lookup on lastmile.sli_measurements (product, env, sli, measured_at desc);
-- A run measures each SLI once, even when the activity recording it runs twice.
create unique index sli_measurements_once_per_run on lastmile.sli_measurements (product, env, sli, run_id)
  where run_id is not null;

-- Every deployment of a product version to an environment.
create table lastmile.deployments (
  deployment_id bigint generated always as identity primary key,
  env text not null,
  product text not null,
  version text not null,
  git_sha text,
  deployed_at timestamptz not null default now(),
  manifest jsonb not null default '{}'::jsonb
);
create index deployments_env_product on lastmile.deployments (env, product, deployed_at desc, deployment_id desc);

-- Reverse ETL: hash of each record last acknowledged by a destination, so unchanged records are not sent again.
create table lastmile.sync_state (
  product text not null,
  env text not null,
  target text not null,
  key text not null,
  hash text not null,
  synced_at timestamptz not null default now(),
  run_id text,
  primary key (product, env, target, key)
);

-- Data sharing: grants given, when they expire and when they were revoked (reconciled to the desired state).
create table lastmile.grants_ledger (
  grant_id bigint generated always as identity primary key,
  env text not null,
  product text not null,
  target text not null,
  grantee text not null,
  object text not null,
  privileges text[] not null default '{}',
  granted_at timestamptz not null default now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  run_id text,
  detail jsonb
);
create index grants_ledger_active on lastmile.grants_ledger (env, product, target, grantee) where revoked_at is null;

-- File exchange: files written per run; `published` marks the ones the consumer-facing pointer names.
create table lastmile.file_manifests (
  run_id text not null,
  product text not null,
  env text not null,
  target text not null,
  path text not null,
  format text not null,
  rows bigint,
  bytes bigint,
  sha256 text,
  created_at timestamptz not null default now(),
  published boolean not null default false,
  detail jsonb,
  primary key (run_id, target, path)
);
create index file_manifests_product on lastmile.file_manifests (env, product, target, created_at desc);

-- Rows set aside by a failing check (for people to inspect), never served.
create table lastmile.quarantine (
  quarantine_id bigint generated always as identity primary key,
  run_id text not null,
  product text not null,
  check_name text not null,
  row jsonb not null,
  quarantined_at timestamptz not null default now()
);
create index quarantine_run on lastmile.quarantine (run_id, check_name);

-- Alerts raised (SLO at risk, check failed, guardrail tripped); `dedupe_key` keeps one open alert per cause.
create table lastmile.alerts (
  alert_id bigint generated always as identity primary key,
  env text not null,
  product text not null,
  kind text not null,
  severity text not null,
  message text not null,
  detail jsonb,
  dedupe_key text,
  raised_at timestamptz not null default now(),
  resolved_at timestamptz
);
create unique index alerts_open_once on lastmile.alerts (dedupe_key) where resolved_at is null and dedupe_key is not null;
