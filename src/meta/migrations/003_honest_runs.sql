-- A run that served some targets and skipped others is `incomplete`: not a delivery, and not counted as one.
-- Applied once by src/meta/migrate.ts inside a transaction; never edit after release — add 004_... instead.
alter table lastmile.runs drop constraint runs_status_check;
alter table lastmile.runs add constraint runs_status_check
  check (status in ('running', 'succeeded', 'failed', 'blocked', 'incomplete', 'canceled'));
