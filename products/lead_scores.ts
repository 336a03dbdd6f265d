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
      // HubSpot contacts, matched by a unique custom property holding the lead id. Dev and test sync into the
      // stand-in table standin.lead_scores__crm_sync of their own warehouse; production needs HUBSPOT_TOKEN.
      destination: { type: 'hubspot', objectType: 'contacts', idProperty: 'lead_id', token: secret('HUBSPOT_TOKEN') },
      key: 'lead_id',
      mapping: { lead_id: 'lead_id', email: 'email', lead_score: 'score', lead_scored_at: 'scored_at' },
      mode: 'upsert',
      // a lead the model has no score for keeps the score a rep may have typed in
      nulls: 'skip',
      rateLimit: { requestsPerSecond: 8 },
      guardrails: { maxChangedShare: 0.6 },
      schedule: { cron: '0 5 * * 1-5', timezone: 'America/New_York' },
    }),
  ],
});
