-- Trust layer: check severities as products write them, why a run was blocked, SLI details, durable alert delivery.
-- Applied once by src/meta/migrate.ts inside a transaction; never edit after release — add 003_... instead.

-- Check severities use the product's words: `block` (serving stops) and `warn`.
alter table lastmile.check_results drop constraint check_results_severity_check;
update lastmile.check_results set severity = 'block' where severity = 'error';
alter table lastmile.check_results add constraint check_results_severity_check check (severity in ('block', 'warn'));

-- Why a run was blocked (one sentence each); empty for runs that were not.
alter table lastmile.runs add column reasons text[] not null default '{}';

-- What an SLI measurement observed besides its value (the deadline judged, the latency of each query…).
alter table lastmile.sli_measurements add column detail jsonb;

-- Alerts: the message sent when the incident resolves, and what raised it.
alter table lastmile.alerts add column resolve_message text;
alter table lastmile.alerts add column slo text;

-- One row per alert event (open, resolve) and channel (log, webhook): delivered once, retried until it is.
create table lastmile.alert_deliveries (
  alert_id bigint not null references lastmile.alerts (alert_id) on delete cascade,
  event text not null check (event in ('open', 'resolve')),
  channel text not null,
  attempts integer not null default 0,
  last_attempt_at timestamptz,
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (alert_id, event, channel)
);
create index alert_deliveries_pending on lastmile.alert_deliveries (created_at) where delivered_at is null;
