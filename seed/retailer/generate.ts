/**
 * The generator: one `insert … select` per table over `generate_series`, so Postgres makes the rows itself and
 * nothing large passes through Node. Randomness comes from a counter-based generator: `pg_temp.seed_u(k, stream)` is
 * a uniform number in [0, 1) that depends only on the row key `k`, the stream number (one per column decision) and
 * PRNG_SEED. No clock, no `random()`: the same inputs give the same rows in any order, on any run.
 *
 * Only numbers derived from constants.ts are interpolated into the SQL; lists and counts are parameters.
 * Inserts carry no ORDER BY: ids come from the keys (or an ordered row_number()), and the checksum does not depend
 * on physical row order, so sorting would only cost time.
 */
import {
  ANCHOR_EPOCH,
  CUSTOMERS_FROM_EPOCH,
  LOT_COUNT,
  LOT_DAYS,
  LOTS_FROM_EPOCH,
  ORDER_DAYS,
  ORDERS_FROM_EPOCH,
  PRNG_SEED,
  RUNAWAY_CAMPAIGN,
  SECONDS_PER_DAY,
  type SeedCounts,
  type ShopTable,
} from './constants.js';
import {
  AD_PLATFORMS,
  CAMPAIGN_MARKETS,
  CAMPAIGN_THEMES,
  COLORS,
  EMAIL_DOMAINS,
  FABRICS,
  FIRST_NAMES,
  KEYWORD_MODIFIERS,
  KEYWORD_PHRASES,
  LAST_NAMES,
  STYLES,
  SUPPLIERS,
  supplierEmail,
} from './dimensions.js';

export interface SeedStatement {
  /** The table this statement fills, when it fills one (progress reports count its rows). */
  table?: ShopTable;
  sql: string;
  params?: unknown[];
}

const A = ANCHOR_EPOCH;
const D0 = ORDERS_FROM_EPOCH;
const C0 = CUSTOMERS_FROM_EPOCH;
const DAY = SECONDS_PER_DAY;
const CUSTOMER_SPAN = ANCHOR_EPOCH - CUSTOMERS_FROM_EPOCH;
/** Orders and leads stay one hour clear of the anchor so jitter never crosses it. */
const ORDER_SPAN = ORDER_DAYS * DAY - 3600;
const LOTS_FROM_DATE = new Date(LOTS_FROM_EPOCH * 1000).toISOString().slice(0, 10);
const ORDERS_FROM_DATE = new Date(ORDERS_FROM_EPOCH * 1000).toISOString().slice(0, 10);

/** Picks one element of an array parameter with uniform number `u`. */
function pick(arrayParam: string, u: string): string {
  return `(${arrayParam})[1 + floor(${u} * cardinality(${arrayParam}))::int]`;
}

/** Email-safe form of a name: lower case, umlauts spelled out, everything but a-z, 0-9, dots and underscores removed. */
function emailPart(expr: string): string {
  return `regexp_replace(replace(replace(replace(lower(${expr}), 'ü', 'ue'), 'ö', 'oe'), 'ä', 'ae'), '[^a-z0-9._]', '', 'g')`;
}

export const HELPERS = `
create or replace function pg_temp.seed_u(k bigint, stream int) returns double precision
language sql immutable parallel safe
as $$ select (hashint8extended(k, ${PRNG_SEED}::bigint * 1000 + stream) & 4503599627370495)::double precision / 4503599627370496.0 $$;
`;

export function seedStatements(counts: SeedCounts, scale: number): SeedStatement[] {
  const u = (key: string, stream: number): string => `pg_temp.seed_u(${key}, ${stream})`;
  return [
    {
      sql: `create temp table seed_supplier on commit drop as
            select n::int as supplier_no, q as quality from unnest($1::float8[]) with ordinality as s(q, n)`,
      params: [SUPPLIERS.map((s) => s.quality)],
    },
    {
      table: 'suppliers',
      sql: `insert into shop.suppliers (supplier_id, name, country, contact_email)
            select 'SUP-' || lpad(s.n::text, 3, '0'), s.name, s.country, s.email
            from unnest($1::text[], $2::text[], $3::text[]) with ordinality as s(name, country, email, n)
            order by s.n`,
      params: [
        SUPPLIERS.map((s) => s.name),
        SUPPLIERS.map((s) => s.country),
        SUPPLIERS.map((s) => (s.contact ? supplierEmail(s.name) : null)),
      ],
    },
    {
      // Lots arrive one every ~1.3 days; lower supplier numbers weave more of them. A lot's badness (0–1) is its
      // supplier's quality plus noise, and 6% of lots are bad batches.
      sql: `create temp table seed_lot on commit drop as
            select i as lot_no,
                   'LOT-' || lpad(i::text, 5, '0') as lot_id,
                   x.supplier_no,
                   date '${LOTS_FROM_DATE}' + floor((i - 1) * ${LOT_DAYS} / ${LOT_COUNT}.0)::int as received_on,
                   ${pick('$1::text[]', u('i', 102))} as fabric,
                   least(1.0, s.quality + case when ${u('i', 103)} < 0.06 then 0.45 else 0 end + ${u('i', 104)} * 0.08) as badness
            from generate_series(1, ${LOT_COUNT}) i
            cross join lateral (select 1 + floor(power(${u('i', 101)}, 1.3) * ${SUPPLIERS.length})::int as supplier_no) x
            join seed_supplier s on s.supplier_no = x.supplier_no`,
      params: [FABRICS],
    },
    {
      table: 'fabric_lots',
      sql: `insert into shop.fabric_lots (lot_id, supplier_id, fabric, received_on)
            select lot_id, 'SUP-' || lpad(supplier_no::text, 3, '0'), fabric, received_on from seed_lot order by lot_no`,
    },
    {
      // Customer ids follow sign-up time over the two years before the anchor.
      table: 'customers',
      sql: `insert into shop.customers (customer_id, email, full_name, country, created_at)
            select i,
                   ${emailPart("x.f || '.' || x.l")} || i || '@' || ${pick('$3::text[]', u('i', 203))},
                   x.f || ' ' || x.l,
                   case when x.c < 0.30 then 'DE' when x.c < 0.42 then 'FR' when x.c < 0.52 then 'NL'
                        when x.c < 0.64 then 'GB' when x.c < 0.70 then 'AT' when x.c < 0.78 then 'ES'
                        when x.c < 0.86 then 'IT' when x.c < 0.91 then 'BE' when x.c < 0.95 then 'SE' else 'US' end,
                   to_timestamp(${C0} + floor(((i - 1) + ${u('i', 205)}) * ${CUSTOMER_SPAN}::float8 / $4::bigint))
            from generate_series(1, $4::bigint) i
            cross join lateral (select ${pick('$1::text[]', u('i', 201))} as f,
                                       ${pick('$2::text[]', u('i', 202))} as l,
                                       ${u('i', 204)} as c) x`,
      params: [FIRST_NAMES, LAST_NAMES, EMAIL_DOMAINS, counts.customers],
    },
    {
      // Order ids follow time; the density peaks in summer (running season). Each order picks a customer who had
      // signed up by then. Currency follows the customer's country; status follows the order's age.
      table: 'orders',
      sql: `insert into shop.orders (order_id, customer_id, ordered_at, channel, currency, status)
            select o.i, o.customer_id, to_timestamp(o.t),
                   case when o.ch < 0.55 then 'web' when o.ch < 0.85 then 'app' else 'marketplace' end,
                   case c.country when 'GB' then 'GBP' when 'SE' then 'SEK' when 'US' then 'USD' else 'EUR' end,
                   case when o.st < 0.03 then 'cancelled'
                        when ${A} - o.t < 1.5 * ${DAY} then 'placed'
                        when ${A} - o.t < 5 * ${DAY} then 'shipped'
                        when ${u('o.i', 305)} < 0.005 then 'shipped'
                        else 'delivered' end
            from (
              select a.i, a.t, ${u('a.i', 303)} as ch, ${u('a.i', 304)} as st,
                     1 + floor(${u('a.i', 302)} * (greatest(2, floor($2::bigint * (a.t - ${C0}) / ${CUSTOMER_SPAN})) - 1))::bigint as customer_id
              from (
                select i, ${D0} + floor((x.x + 0.3 / (2 * pi()) * sin(2 * pi() * x.x)) * ${ORDER_SPAN} + ${u('i', 301)} * 1800) as t
                from generate_series(1, $1::bigint) i
                cross join lateral (select (i::float8 - 0.5) / $1::bigint as x) x
              ) a
            ) o
            join shop.customers c on c.customer_id = o.customer_id`,
      params: [counts.orders, counts.customers],
    },
    {
      // 1–5 lines per order (mean ~2.55). A line's fabric lot is one of the 40 latest lots received by the order day.
      table: 'order_lines',
      sql: `insert into shop.order_lines (order_id, line_no, sku, lot_id, quantity, unit_price)
            select o.order_id, j,
                   'RS-' || ($1::text[])[a.s] || '-' || a.size || '-' || ${pick('$3::text[]', u('kk.k', 404))},
                   'LOT-' || lpad(greatest(1, least(${LOT_COUNT}, floor(kk.dd * ${LOT_COUNT} / ${LOT_DAYS}.0)::int + 1)
                                           - floor(${u('kk.k', 405)} * 40)::int)::text, 5, '0'),
                   case when a.q < 0.86 then 1 when a.q < 0.97 then 2 else 3 end,
                   round(($2::numeric[])[a.s] * case when ${u('kk.k', 407)} < 0.15 then 0.8 else 1 end, 2)
            from shop.orders o
            cross join lateral generate_series(1, case when ${u('o.order_id', 401)} < 0.25 then 1
                                                      when ${u('o.order_id', 401)} < 0.55 then 2
                                                      when ${u('o.order_id', 401)} < 0.75 then 3
                                                      when ${u('o.order_id', 401)} < 0.90 then 4 else 5 end) j
            cross join lateral (select o.order_id * 8 + j as k,
                                       floor((extract(epoch from o.ordered_at) - ${LOTS_FROM_EPOCH}) / ${DAY})::int as dd) kk
            cross join lateral (select 1 + floor(${u('kk.k', 402)} * cardinality($1::text[]))::int as s,
                                       ${u('kk.k', 406)} as q,
                                       case when ${u('kk.k', 403)} < 0.08 then 'XS' when ${u('kk.k', 403)} < 0.30 then 'S'
                                            when ${u('kk.k', 403)} < 0.64 then 'M' when ${u('kk.k', 403)} < 0.88 then 'L'
                                            else 'XL' end as size) a`,
      params: [STYLES.map((s) => s.code), STYLES.map((s) => s.price), COLORS],
    },
    {
      // Delivered lines come back with a probability that rises with the lot's badness and for the extreme sizes,
      // 4–38 days after the order (returns after the anchor have not happened yet).
      // Wrinkles: every 1000th return has no reason code; every 5000th (offset 2500) returns one unit more than bought.
      table: 'returns',
      sql: `insert into shop.returns (return_id, order_id, line_no, returned_at, reason_code, quantity)
            select n.return_id, n.order_id, n.line_no, to_timestamp(n.t),
                   case when n.return_id % 1000 = 0 then null
                        when ${u('n.k', 504)} < n.badness * 0.8 then 'defect'
                        when n.ur < 0.28 then 'too_small' when n.ur < 0.50 then 'too_large'
                        when n.ur < 0.62 then 'color' when n.ur < 0.90 then 'changed_mind'
                        when n.ur < 0.96 then 'late' else 'defect' end,
                   case when n.return_id % 5000 = 2500 then n.line_qty + 1
                        when n.line_qty > 1 and ${u('n.k', 506)} < 0.4 then 1
                        else n.line_qty end
            from (
              select row_number() over (order by r.order_id, r.line_no) as return_id, r.*
              from (
                select ol.order_id, ol.line_no, ol.quantity as line_qty, kk.k, l.badness, ${u('kk.k', 505)} as ur,
                       extract(epoch from o.ordered_at)::float8 + (4 + floor(${u('kk.k', 502)} * 35)) * ${DAY}
                         + floor(${u('kk.k', 503)} * ${DAY}) as t
                from shop.order_lines ol
                join shop.orders o on o.order_id = ol.order_id
                join seed_lot l on l.lot_id = ol.lot_id
                cross join lateral (select ol.order_id * 8 + ol.line_no as k) kk
                where o.status = 'delivered'
                  and ${u('kk.k', 501)} < 0.075 + 0.28 * l.badness
                        + case when split_part(ol.sku, '-', 3) in ('XS', 'XL') then 0.04 else 0 end
              ) r
              where r.t < ${A}
            ) n`,
    },
    {
      // Defects per lot grow with the lot's badness; found within 120 days of receipt (and before the anchor).
      table: 'defect_events',
      sql: `insert into shop.defect_events (event_id, lot_id, detected_at, defect_type, severity)
            select row_number() over (order by e.lot_no, e.j), e.lot_id, to_timestamp(e.t),
                   case when e.ut < 0.35 then 'seam' when e.ut < 0.55 then 'stain' when e.ut < 0.80 then 'fade' else 'elastic' end,
                   least(5, 1 + floor(power(${u('e.k', 604)}, 1.8) * 5)::int
                            + case when e.badness > 0.4 and ${u('e.k', 605)} < 0.3 then 1 else 0 end)
            from (
              select l.lot_no, j, l.lot_id, l.badness, kk.k, ${u('kk.k', 603)} as ut,
                     (l.received_on - date '1970-01-01')::float8 * ${DAY} + floor(${u('kk.k', 602)} * 120 * ${DAY}) as t
              from seed_lot l
              cross join lateral generate_series(1, floor($1::float8 * (3 + 50 * l.badness) * (0.5 + ${u('l.lot_no', 601)}))::int) j
              cross join lateral (select l.lot_no::bigint * 10000000 + j as k) kk
            ) e
            where e.t < ${A}`,
      params: [scale],
    },
    {
      // 35% of leads are existing customers (same email, so customers appear in several leads).
      // Wrinkles: every 10000th lead has no email; every 10000th (offset 5000) has it upper-cased with a trailing space.
      table: 'crm_leads',
      sql: `insert into shop.crm_leads (lead_id, customer_id, email, source, created_at, pages_viewed, cart_adds)
            select x.i, x.cid,
                   case when x.i % 10000 = 0 then null
                        when x.i % 10000 = 5000 then upper(coalesce(c.email, x.lead_email)) || ' '
                        else coalesce(c.email, x.lead_email) end,
                   x.source, to_timestamp(x.t), x.pv, floor(x.pv * ${u('x.i', 706)} * 0.3)::int
            from (
              select i,
                     case when ${u('i', 701)} < 0.35 then 1 + floor(${u('i', 702)} * $5::bigint)::bigint end as cid,
                     ${emailPart("n.f || '_' || n.l")} || (i % 97) || '@' || ${pick('$3::text[]', u('i', 707))} as lead_email,
                     case when n.s < 0.30 then 'organic_search' when n.s < 0.55 then 'paid_search'
                          when n.s < 0.70 then 'social' when n.s < 0.82 then 'newsletter'
                          when n.s < 0.92 then 'referral' else 'marketplace' end as source,
                     ${D0} + floor(((i - 1) + ${u('i', 704)}) * ${ORDER_SPAN}::float8 / $4::bigint) as t,
                     least(120, 1 + floor(-ln(1 - ${u('i', 705)}) * 6))::int as pv
              from generate_series(1, $4::bigint) i
              cross join lateral (select ${pick('$1::text[]', u('i', 708))} as f,
                                         ${pick('$2::text[]', u('i', 709))} as l,
                                         ${u('i', 703)} as s) n
            ) x
            left join shop.customers c on c.customer_id = x.cid`,
      params: [FIRST_NAMES, LAST_NAMES, EMAIL_DOMAINS, counts.crmLeads, counts.customers],
    },
    {
      // 40 campaigns; ~80% active (running to the end), the others ran for 60–260 days. CMP-027 is always active.
      sql: `create temp table seed_campaign on commit drop as
            select c.*, case when c.active then ${ORDER_DAYS - 1}
                             else least(${ORDER_DAYS - 1}, c.start_day + 60 + floor(${u('c.campaign_no', 806)} * 200)::int) end as end_day
            from (
              select n as campaign_no, 'CMP-' || lpad(n::text, 3, '0') as campaign_id,
                     ($1::text[])[1 + floor(power(${u('n', 801)}, 1.6) * cardinality($1::text[]))::int] as platform,
                     ${pick('$2::text[]', u('n', 802))} || ' ' || ${pick('$3::text[]', u('n', 807))} as name,
                     round((50 + power(${u('n', 803)}, 2) * 1950)::numeric, 2) as daily_budget,
                     (n = ${RUNAWAY_CAMPAIGN} or ${u('n', 804)} < 0.8) as active,
                     floor(${u('n', 805)} * 120)::int as start_day
              from generate_series(1, 40) n
            ) c`,
      params: [AD_PLATFORMS, CAMPAIGN_THEMES, CAMPAIGN_MARKETS],
    },
    {
      table: 'ad_campaigns',
      sql: `insert into shop.ad_campaigns (campaign_id, platform, name, daily_budget, active)
            select campaign_id, platform, name, daily_budget, active from seed_campaign order by campaign_no`,
    },
    {
      // One row per campaign × keyword × day the campaign ran. Clicks follow budget, cost per click, keyword
      // popularity and the season. Wrinkle: CMP-027's conversion tracking loops in its last 10 days — conversions and
      // revenue grow ×1.8 a day (conversions exceed clicks), so its recommended bids run away.
      table: 'ad_bids',
      sql: `with kw as (
              select sc.campaign_no, sc.campaign_id, sc.daily_budget::float8 as budget, sc.start_day, sc.end_day, x.ck,
                     ($1::text[])[1 + x.p / cardinality($2::text[])] || ($2::text[])[1 + x.p % cardinality($2::text[])]
                       || case when k > x.vocab then ' ' || ((k - 1) / x.vocab + 1) else '' end as keyword,
                     0.25 + ${u('x.ck', 901)} * 1.5 as cpc,
                     0.2 + power(${u('x.ck', 902)}, 2) * 1.8 as pop,
                     0.01 + 0.04 * ${u('x.ck', 903)} as cvr
              from seed_campaign sc
              cross join generate_series(1, $3::int) k
              cross join lateral (
                select v.vocab, (((k - 1) % v.vocab) * 37 + sc.campaign_no * 11) % v.vocab as p,
                       sc.campaign_no::bigint * 1000000 + k as ck
                from (select cardinality($1::text[]) * cardinality($2::text[]) as vocab) v
              ) x
            ), daily as (
              select kw.*, d, kw.ck * 1000 + d as ckd,
                     floor(kw.budget / kw.cpc / 10 * kw.pop * (1 + 0.4 * sin(2 * pi() * (d - 80) / 364.0))
                           * (0.6 + 0.8 * ${u('kw.ck * 1000 + d', 904)}))::int as clicks
              from kw cross join lateral generate_series(kw.start_day, kw.end_day) d
            ), conv as (
              select daily.*,
                     floor((clicks * cvr + ${u('ckd', 905)})
                           * case when campaign_no = ${RUNAWAY_CAMPAIGN} and d >= ${ORDER_DAYS - 10}
                                  then power(1.8::float8, (d - ${ORDER_DAYS - 11})::float8) else 1 end)::int as conversions
              from daily
            )
            insert into shop.ad_bids (campaign_id, keyword, day, clicks, conversions, cost, revenue)
            select campaign_id, keyword, date '${ORDERS_FROM_DATE}' + d, clicks, conversions,
                   round((clicks * cpc * (0.9 + 0.2 * ${u('ckd', 906)}))::numeric, 2),
                   round((conversions * (35 + 40 * ${u('ckd', 907)}))::numeric, 2)
            from conv`,
      params: [KEYWORD_PHRASES, KEYWORD_MODIFIERS, counts.keywordsPerCampaign],
    },
  ];
}
