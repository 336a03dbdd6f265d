/**
 * The serving marts: plain views over `shop`, what the example products read. Weeks and months are cut in UTC so a
 * view gives the same rows whatever the session time zone. Keep in sync with docs/seed-data.md ("The clock").
 *
 * The clock. The stored rows never change: they end at the seed anchor (2026-01-05, a Monday), so the checksum is
 * the same every day. The marts show them in the present instead:
 *   - `marts.clock_offset()` moves order, return and defect times forward by whole weeks (weekdays and Monday weeks
 *     stay aligned): by the smallest whole number of weeks that carries the anchor to today (00:00 UTC) or beyond.
 *   - `marts.clock_cutoff()` is the stored instant shown as today 00:00 UTC: rows after it lie in the future and are
 *     left out, so the marts hold the data up to yesterday, like a warehouse loaded every night. The newest order
 *     week is this week (from Tuesday on) or the last one (on Mondays); the newest month is this month or, on the
 *     1st, the last one.
 *   - `marts.last_run(every, origin)` stamps model outputs with the model's latest scheduled run at or before now.
 * Before the anchor day (a machine clock set in the past) the offset is 0, every row is shown and the model stamps
 * are 06:00 UTC on the anchor day, as the seed was before the marts had a clock.
 * Each function takes the reference time as an optional last argument (default now()), so tests can ask for any day.
 * The views call them as `(select marts.clock_offset())`: a sub-select is evaluated once per statement (an InitPlan),
 * while a bare call of these STABLE functions is inlined and evaluated again for every row, which made the weekly
 * and monthly views twice as slow. now() is one value per statement either way.
 * Weeks and months are cut AFTER shifting, so they are calendar weeks and months of the shown dates.
 *
 * Changing the views: the fingerprint lastmile records (the comment of schema `marts`) changes with this text, and
 * seeding re-applies it to a database that holds another one (no reseed). `create or replace` keeps objects built
 * on the views, but it cannot drop, rename or retype a column: for such a change, bump SEED_VERSION too (a full
 * reseed drops and recreates `marts`).
 */
import type { SeedReapply } from 'lastmile';
import { ANCHOR_EPOCH, MART_VIEWS, SEED_ANCHOR } from './constants.js';

const HOUR = 3600;
const iso = (epoch: number): string => new Date(epoch * 1000).toISOString();
/** The anchor, as a SQL literal. */
const ANCHOR = `timestamptz '${SEED_ANCHOR}'`;
/** The model stamp before the anchor day: 06:00 UTC on the anchor day. */
const FIRST_RUN = `timestamptz '${iso(ANCHOR_EPOCH + 6 * HOUR)}'`;
/** The lead model runs every day at 06:00 UTC. */
const LEAD_MODEL = `interval '24 hours', ${FIRST_RUN}`;
/** The bid model runs every 4 hours: 00:00, 04:00, 08:00 … UTC. */
const BID_MODEL = `interval '4 hours', ${ANCHOR}`;

/**
 * The offset at `at`, as SQL. clock_cutoff writes it out rather than calling clock_offset: a function the marts call
 * runs with the rights of whoever reads them, and a shared view's reader (a supplier's role) may not look up anything
 * in the marts schema.
 */
const OFFSET_AT = `make_interval(hours => 168 * greatest(0, ceil((extract(epoch from date_trunc('day', at, 'UTC')) - ${ANCHOR_EPOCH}) / 604800.0))::int)`;

/*
 * Offsets are made of hours, not days: `timestamptz + interval '7 days'` keeps the wall-clock time of the session
 * time zone, which moves an instant by an hour across a daylight-saving change; hours are exact.
 */
export const MARTS_DDL = `
create or replace function marts.clock_offset(at timestamptz default now()) returns interval
language sql stable parallel safe
as $$
  select ${OFFSET_AT}
$$;
comment on function marts.clock_offset(timestamptz) is 'How far the marts move the stored times forward: whole weeks, enough to carry the seed anchor to today (00:00 UTC); 0 before the anchor day.';

create or replace function marts.clock_cutoff(at timestamptz default now()) returns timestamptz
language sql stable parallel safe
as $$
  select greatest(date_trunc('day', at, 'UTC'), ${ANCHOR}) - ${OFFSET_AT}
$$;
comment on function marts.clock_cutoff(timestamptz) is 'The stored instant the marts show as today 00:00 UTC: rows from it on lie in the future and are left out.';

create or replace function marts.last_run(every interval, origin timestamptz, at timestamptz default now()) returns timestamptz
language sql stable parallel safe
as $$
  select case when at < ${ANCHOR} then ${FIRST_RUN} else date_bin(every, at, origin) end
$$;
comment on function marts.last_run(interval, timestamptz, timestamptz) is 'The latest run at or before now of a model that runs every "every" from "origin" on; 06:00 UTC on the seed anchor day before it.';

create or replace view marts.returns_weekly as
select s.supplier_id,
       s.name as supplier,
       date_trunc('week', (o.ordered_at + (select marts.clock_offset())) at time zone 'UTC')::date as week,
       sum(ol.quantity)::bigint as units,
       coalesce(sum(r.quantity), 0)::bigint as returns
from shop.order_lines ol
join shop.orders o on o.order_id = ol.order_id
join shop.fabric_lots l on l.lot_id = ol.lot_id
join shop.suppliers s on s.supplier_id = l.supplier_id
left join (select order_id, line_no, sum(quantity) as quantity
           from shop.returns
           where returned_at < (select marts.clock_cutoff())
           group by order_id, line_no) r
  on r.order_id = ol.order_id and r.line_no = ol.line_no
where o.status <> 'cancelled'
  and o.ordered_at < (select marts.clock_cutoff())
group by s.supplier_id, s.name, week;
comment on view marts.returns_weekly is 'Units sold and returned (so far) per fabric supplier and order week (Monday, UTC), up to yesterday; cancelled orders excluded. Dates moved to the present by whole weeks (marts.clock_offset()).';

create or replace view marts.partner_invoices as
select date_trunc('month', (o.ordered_at + (select marts.clock_offset())) at time zone 'UTC')::date as invoice_month,
       s.supplier_id,
       s.name as supplier,
       count(*)::bigint as lines,
       sum(ol.quantity)::bigint as units,
       sum(ol.quantity * ol.unit_price)::numeric(14, 2) as amount
from shop.order_lines ol
join shop.orders o on o.order_id = ol.order_id
join shop.fabric_lots l on l.lot_id = ol.lot_id
join shop.suppliers s on s.supplier_id = l.supplier_id
where o.status <> 'cancelled'
  and o.ordered_at < (select marts.clock_cutoff())
group by 1, s.supplier_id, s.name;
comment on view marts.partner_invoices is 'Monthly sales value of lines made from each supplier''s fabric (UTC months), up to yesterday; cancelled orders excluded. Dates moved to the present by whole weeks (marts.clock_offset()).';

create or replace view marts.supplier_quality as
with defects as (
  select e.lot_id, date_trunc('week', (e.detected_at + (select marts.clock_offset())) at time zone 'UTC')::date as week, count(*)::bigint as defects
  from shop.defect_events e
  where e.detected_at < (select marts.clock_cutoff())
  group by 1, 2
), returned as (
  select ol.lot_id, date_trunc('week', (r.returned_at + (select marts.clock_offset())) at time zone 'UTC')::date as week, sum(r.quantity)::bigint as returns
  from shop.returns r
  join shop.order_lines ol on ol.order_id = r.order_id and ol.line_no = r.line_no
  where r.returned_at < (select marts.clock_cutoff())
  group by 1, 2
)
select l.supplier_id,
       l.lot_id,
       coalesce(d.week, r.week) as week,
       coalesce(d.defects, 0)::bigint as defects,
       coalesce(r.returns, 0)::bigint as returns,
       s.contact_email
from defects d
full join returned r on r.lot_id = d.lot_id and r.week = d.week
join shop.fabric_lots l on l.lot_id = coalesce(d.lot_id, r.lot_id)
join shop.suppliers s on s.supplier_id = l.supplier_id;
comment on view marts.supplier_quality is 'Defect events and returned units per lot and week (Monday, UTC), up to yesterday, with the supplier contact (PII). Dates moved to the present by whole weeks (marts.clock_offset()).';

create or replace view marts.lead_scores as
select lead_id,
       email,
       (1 / (1 + exp(-(-3.2 + 0.09 * pages_viewed + 0.8 * cart_adds
                       + case when customer_id is not null then 0.9 else 0 end
                       + case source when 'paid_search' then 0.3 when 'newsletter' then 0.5 when 'referral' then 0.4
                                     when 'social' then -0.2 else 0 end))))::numeric(5, 4) as score,
       (select marts.last_run(${LEAD_MODEL})) as scored_at
from shop.crm_leads;
comment on view marts.lead_scores is 'Purchase propensity of each CRM lead, 0–1 (logistic model over engagement); the model runs daily at 06:00 UTC, scored_at is its latest run.';

create or replace view marts.ad_bid_recommendations as
select b.campaign_id,
       b.keyword,
       round(least(999999.99, sum(b.revenue) / sum(b.clicks) * 0.35), 2)::numeric(8, 2) as bid,
       (select marts.last_run(${BID_MODEL})) as computed_at
from shop.ad_bids b
join shop.ad_campaigns c on c.campaign_id = b.campaign_id
where c.active
  and b.day > (select max(day) from shop.ad_bids) - 14
group by b.campaign_id, b.keyword
having sum(b.clicks) > 0;
comment on view marts.ad_bid_recommendations is 'Cost-per-click bid per active campaign and keyword: 35% of the revenue per click over the last 14 days of the data. The model runs every 4 hours (00:00, 04:00 … UTC); computed_at is its latest run. No guardrail: that is the serving layer''s job.';
`;

/** The marts as a seed's re-applied objects: lastmile fingerprints MARTS_DDL and records it as the schema's comment. */
export const MARTS: SeedReapply = {
  schema: 'marts',
  names: MART_VIEWS,
  sql: MARTS_DDL,
  description: 'Example serving marts of the lastmile seed (views over shop)',
};
