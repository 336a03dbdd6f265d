/**
 * The serving marts: plain views over `shop`, what the example products read. Weeks and months are cut in UTC so a
 * view gives the same rows whatever the session time zone. Keep in sync with docs/seed-data.md.
 */
import { ANCHOR_EPOCH } from './constants.js';

/** Marts that compute "now" (scores, recommendations) stamp it as 06:00 UTC on the anchor day. */
const COMPUTED_AT = new Date((ANCHOR_EPOCH + 6 * 3600) * 1000).toISOString();

export const CREATE_MARTS = `
create or replace view marts.returns_weekly as
select s.supplier_id,
       s.name as supplier,
       date_trunc('week', o.ordered_at at time zone 'UTC')::date as week,
       sum(ol.quantity)::bigint as units,
       coalesce(sum(r.quantity), 0)::bigint as returns
from shop.order_lines ol
join shop.orders o on o.order_id = ol.order_id
join shop.fabric_lots l on l.lot_id = ol.lot_id
join shop.suppliers s on s.supplier_id = l.supplier_id
left join (select order_id, line_no, sum(quantity) as quantity from shop.returns group by order_id, line_no) r
  on r.order_id = ol.order_id and r.line_no = ol.line_no
where o.status <> 'cancelled'
group by s.supplier_id, s.name, date_trunc('week', o.ordered_at at time zone 'UTC')::date;
comment on view marts.returns_weekly is 'Units sold and returned per fabric supplier and order week (Monday, UTC); cancelled orders excluded.';

create or replace view marts.partner_invoices as
select date_trunc('month', o.ordered_at at time zone 'UTC')::date as invoice_month,
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
group by 1, s.supplier_id, s.name;
comment on view marts.partner_invoices is 'Monthly sales value of lines made from each supplier''s fabric (UTC months); cancelled orders excluded.';

create or replace view marts.supplier_quality as
with defects as (
  select e.lot_id, date_trunc('week', e.detected_at at time zone 'UTC')::date as week, count(*)::bigint as defects
  from shop.defect_events e
  group by 1, 2
), returned as (
  select ol.lot_id, date_trunc('week', r.returned_at at time zone 'UTC')::date as week, sum(r.quantity)::bigint as returns
  from shop.returns r
  join shop.order_lines ol on ol.order_id = r.order_id and ol.line_no = r.line_no
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
comment on view marts.supplier_quality is 'Defect events and returned units per lot and week (Monday, UTC), with the supplier contact (PII).';

create or replace view marts.lead_scores as
select lead_id,
       email,
       (1 / (1 + exp(-(-3.2 + 0.09 * pages_viewed + 0.8 * cart_adds
                       + case when customer_id is not null then 0.9 else 0 end
                       + case source when 'paid_search' then 0.3 when 'newsletter' then 0.5 when 'referral' then 0.4
                                     when 'social' then -0.2 else 0 end))))::numeric(5, 4) as score,
       timestamptz '${COMPUTED_AT}' as scored_at
from shop.crm_leads;
comment on view marts.lead_scores is 'Purchase propensity of each CRM lead, 0–1 (logistic model over engagement), scored at 06:00 UTC on the seed anchor day.';

create or replace view marts.ad_bid_recommendations as
select b.campaign_id,
       b.keyword,
       round(least(999999.99, sum(b.revenue) / sum(b.clicks) * 0.35), 2)::numeric(8, 2) as bid,
       timestamptz '${COMPUTED_AT}' as computed_at
from shop.ad_bids b
join shop.ad_campaigns c on c.campaign_id = b.campaign_id
where c.active
  and b.day > (select max(day) from shop.ad_bids) - 14
group by b.campaign_id, b.keyword
having sum(b.clicks) > 0;
comment on view marts.ad_bid_recommendations is 'Cost-per-click bid per active campaign and keyword: 35% of the revenue per click over the last 14 days. No guardrail: that is the serving layer''s job.';
`;
