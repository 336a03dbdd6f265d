/**
 * Fixed inputs of the example data. Changing anything here (or the SQL that uses it) changes the generated rows:
 * bump SEED_VERSION so already seeded databases are rebuilt, and update docs/seed-data.md. Changing only the marts
 * views (marts.ts) needs no bump: seeding re-applies them wherever their definition differs.
 */

/** Version of the generator; recorded in `shop._seed` by lastmile. A database seeded by another version is reseeded. */
export const SEED_VERSION = 1;

/** Seed of the counter-based random generator (`HELPERS` in generate.ts); changing it changes every row. */
export const PRNG_SEED = 20260105;

/**
 * Every stored timestamp is relative to this instant; the data covers the 52 weeks before it. A Monday. The marts
 * views show the data moved forward by whole weeks to the present (marts.ts); the stored rows stay as they are.
 */
export const SEED_ANCHOR = '2026-01-05T00:00:00Z';

const DAY = 86_400;
/** Unix seconds of the anchor, 2026-01-05 00:00 UTC. */
export const ANCHOR_EPOCH = Date.parse(SEED_ANCHOR) / 1000;
/** First order day, 2025-01-06 (a Monday): 364 days = 52 weeks before the anchor. */
export const ORDERS_FROM_EPOCH = ANCHOR_EPOCH - 364 * DAY;
/** Customers sign up from 2024-01-08 on (two years before the anchor). */
export const CUSTOMERS_FROM_EPOCH = ANCHOR_EPOCH - 728 * DAY;
/** Fabric lots arrive from 2024-12-02 on, one every ~1.3 days. */
export const LOTS_FROM_EPOCH = ORDERS_FROM_EPOCH - 35 * DAY;
export const LOT_DAYS = 395;
export const LOT_COUNT = 300;
export const ORDER_DAYS = 364;
export const SECONDS_PER_DAY = DAY;

/** Rows at scale 1. `--scale N` multiplies the fact tables; suppliers, lots and campaigns stay fixed. */
export const BASE = {
  customers: 40_000,
  orders: 100_000,
  crmLeads: 60_000,
  keywordsPerCampaign: 10,
} as const;

/** The raw tables in dependency order; the checksum walks them in this order. */
export const SHOP_TABLES = [
  'suppliers',
  'fabric_lots',
  'customers',
  'orders',
  'order_lines',
  'returns',
  'defect_events',
  'crm_leads',
  'ad_campaigns',
  'ad_bids',
] as const;
export type ShopTable = (typeof SHOP_TABLES)[number];

export const MART_VIEWS = [
  'returns_weekly',
  'partner_invoices',
  'supplier_quality',
  'lead_scores',
  'ad_bid_recommendations',
] as const;
export type MartView = (typeof MART_VIEWS)[number];

/** The campaign whose conversion tracking loops in the last 10 days (the "runaway bid" wrinkle). */
export const RUNAWAY_CAMPAIGN = 27;

export interface SeedCounts {
  customers: number;
  orders: number;
  crmLeads: number;
  keywordsPerCampaign: number;
}

export const MAX_SCALE = 10_000;

/** Validates `scale` and derives the row counts of the generated tables. */
export function seedCounts(scale: number): SeedCounts {
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0 || scale > MAX_SCALE) {
    throw new RangeError(
      `Seed scale must be a number above 0 and at most ${MAX_SCALE} (1 = about 100,000 orders); got ${String(scale)}.`,
    );
  }
  return {
    customers: Math.max(10, Math.round(BASE.customers * scale)),
    orders: Math.max(10, Math.round(BASE.orders * scale)),
    crmLeads: Math.max(10, Math.round(BASE.crmLeads * scale)),
    keywordsPerCampaign: Math.max(1, Math.round(BASE.keywordsPerCampaign * scale)),
  };
}
