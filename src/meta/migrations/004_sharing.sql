-- Data sharing: one row per consumer of a share target — first grant, last renewal by a run, expiry, usage and sunset,
-- the owner's notice, and the revoke with its reason. Expiries are computed from it (src/sharing/grant-state.ts).
-- Applied once by src/meta/migrate.ts inside a transaction; never edit after release — add 005_... instead.
create table lastmile.share_grants (
  env text not null,
  product text not null,
  target text not null,
  consumer text not null,
  role text not null,
  object text not null,
  first_granted_at timestamptz not null default now(),
  renewed_at timestamptz not null default now(),
  expires_at timestamptz,
  noticed_at timestamptz,
  revoked_at timestamptz,
  revoke_reason text,
  -- usage, sampled from pg_stat_statements (src/sharing/usage.ts): null while unknown
  usage_sampled_at timestamptz,
  usage_calls bigint,
  usage_own_calls bigint not null default 0,
  usage_marker text,
  last_used_at timestamptz,
  sunset_at timestamptz,
  primary key (env, product, target, consumer)
);
create index share_grants_expiring on lastmile.share_grants (env, expires_at) where revoked_at is null;
