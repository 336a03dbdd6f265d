import { check, defineProduct, reverseEtl, secret, sql, table } from 'lastmile';

/**
 * Reverse ETL with guardrails. The bid model's recommendations go straight into the ad platform, which spends money on
 * them at once: a model that goes wrong can burn a budget before anyone looks. So each sync is held for a person's
 * approval when a bid leaves its hard limits, the total bid moves more than 20 % or a quarter of the mirrored bids would
 * be deleted (`lastmile approve ad_bids` / `lastmile reject ad_bids`).
 */
export default defineProduct({
  name: 'ad_bids',
  version: '1.1.0',
  owner: { team: 'performance-marketing', email: 'perf-marketing@example.com' },
  domain: 'marketing',
  description: 'Recommended keyword bids pushed to the ad platform, with hard limits so a model error cannot run bids away.',
  audience: 'internal',
  users: [{ who: 'the ad platform (automated)', action: 'set the max cost per click of each keyword' }],
  source: sql`
    select r.campaign_id, r.keyword, r.bid, r.computed_at
    from ${table('marts.ad_bid_recommendations')} r
    join ${table('shop.ad_campaigns')} c using (campaign_id)
    where c.active
  `,
  contract: {
    key: ['campaign_id', 'keyword'],
    columns: [
      { name: 'campaign_id', type: 'text', nullable: false, description: 'Ad platform campaign' },
      { name: 'keyword', type: 'text', nullable: false, description: 'Search keyword' },
      { name: 'bid', type: 'numeric(8,2)', nullable: false, description: 'Max cost per click, EUR' },
      { name: 'computed_at', type: 'timestamptz', nullable: false, description: 'When the bid model ran' },
    ],
  },
  metrics: {
    average_bid: { sql: 'avg(bid)', description: 'Mean recommended bid', by: ['campaign_id'] },
    max_bid: { sql: 'max(bid)', description: 'Highest recommended bid', by: ['campaign_id'] },
  },
  checks: [
    check.notNull(['campaign_id', 'keyword', 'bid']),
    check.unique(['campaign_id', 'keyword']),
    check.range('bid', { min: 0.05, max: 5, name: 'bid_within_limits' }),
    check.references('campaign_id', { table: table('shop.ad_campaigns'), column: 'campaign_id' }),
    check.freshness('computed_at', { maxAge: '6h' }),
    check.assertion(
      sql`
        select campaign_id, sum(bid) as total_bid
        from ${table('marts.ad_bid_recommendations')}
        group by campaign_id
        having sum(bid) > 500
      `,
      // a campaign whose bids add up past the cap is worth a look, not a reason to stop every other campaign's bids
      { name: 'campaign_bid_total_capped', severity: 'warn' },
    ),
  ],
  // A runaway bid is set aside in lastmile.quarantine; the other bids are still served.
  onDefects: 'quarantine',
  slo: { freshness: '6h', availability: 0.99, defectFree: 0.99, window: '7d' },
  serve: [
    reverseEtl({
      name: 'bid_sync',
      // the ad platform's bid API (lastmile's HTTP contract, docs/reverse-etl.md); dev and test sync into the
      // stand-in table standin.ad_bids__bid_sync of their own warehouse
      destination: { type: 'http', url: 'https://ads.example.com/v1/keyword-bids', method: 'PUT', auth: secret('ADS_API_TOKEN') },
      key: ['campaign_id', 'keyword'],
      mapping: { campaignId: 'campaign_id', keyword: 'keyword', maxCpc: 'bid' },
      mode: 'mirror',
      // the runaway-bid guard: a bid out of bounds, or the sum of all bids up more than 20 % on the last sync, holds
      // the sync for a person to approve (lastmile approve <run>) before a cent is spent
      guardrails: {
        values: [{ column: 'bid', min: 0.05, max: 5 }],
        totals: [{ column: 'bid', maxIncrease: 0.2 }],
        maxDeletedShare: 0.25,
        maxRows: 5000,
      },
      approvalTimeout: '4h',
      rateLimit: { requestsPerSecond: 5 },
      schedule: { cron: '0 */4 * * *', timezone: 'UTC' },
    }),
  ],
});
