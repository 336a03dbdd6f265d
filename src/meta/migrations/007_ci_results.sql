-- What CI recorded about a git commit: a test suite that passed or failed at that SHA. The promotion gate reads it.
create table lastmile.ci_results (
  result_id bigint generated always as identity primary key,
  git_sha text not null,
  suite text not null,
  status text not null check (status in ('passed', 'failed')),
  detail text,
  recorded_by text,
  recorded_at timestamptz not null default now()
);
create index ci_results_sha on lastmile.ci_results (git_sha, suite, recorded_at desc, result_id desc);
