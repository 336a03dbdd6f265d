import { check, defineProduct, reverseEtl, secret, sql, table } from 'lastmile';

export default defineProduct({
  name: 'lead_scores',
  version: '2.0.0',
  owner: { team: 'growth-data-science', email: 'growth-ds@example.com' },
  domain: 'sales',
  description: 'Lead scores from the propensity model, pushed into the CRM so sales calls the most promising leads first.',
  audience: 'internal',
  users: [{ who: 'inside sales reps', action: 'call the highest-scoring leads first each morning' }],
  source: sql`
    select lead_id, email, score, scored_at
    from ${table('marts.lead_scores')}
    where email is not null
  `,
  contract: {
    key: ['lead_id'],
    columns: [
      { name: 'lead_id', type: 'bigint', nullable: false, description: 'CRM lead id' },
      { name: 'email', type: 'text', description: 'Lead email, used by the CRM to match', classification: 'pii' },
      { name: 'score', type: 'numeric(5,4)', nullable: false, description: 'Probability of purchase within 30 days, 0–1' },
      { name: 'scored_at', type: 'timestamptz', nullable: false, description: 'When the model scored the lead' },
    ],
  },
  metrics: {
    average_score: { sql: 'avg(score)', description: 'Mean lead score' },
    hot_leads: { sql: 'count(*) filter (where score >= 0.8)', description: 'Leads scoring 0.8 or more' },
  },
  checks: [
    check.notNull(['lead_id', 'score', 'scored_at']),
    check.unique('lead_id'),
    check.range('score', { min: 0, max: 1 }),
    check.freshness('scored_at', { maxAge: '26h' }),
    check.rowCount({ max: 500_000, name: 'no_runaway_volume' }),
  ],
  slo: { freshness: '26h', availability: 0.99, defectFree: 0.98, deliverBy: '06:30 America/New_York', window: '28d' },
  serve: [
    reverseEtl({
      name: 'crm_sync',
      destination: {
        type: 'http',
        url: 'https://crm.example.com/api/v2/leads/batch',
        method: 'PATCH',
        auth: secret('CRM_TOKEN'),
        batchSize: 200,
      },
      key: 'lead_id',
      mapping: { externalId: 'lead_id', leadScore: 'score', scoredAt: 'scored_at' },
      schedule: { cron: '0 5 * * 1-5', timezone: 'America/New_York' },
    }),
  ],
});
