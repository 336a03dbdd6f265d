import { check, defineProduct, share, table } from 'lastmile';

export default defineProduct({
  name: 'supplier_quality_share',
  version: '1.0.0',
  owner: { team: 'supplier-quality', email: 'supplier-quality@example.com' },
  domain: 'sourcing',
  description: 'Defects and returns per fabric lot, shared with each supplier for its own lots only.',
  audience: 'external',
  users: [{ who: 'supplier quality engineers', action: 'trace defective fabric lots and fix the production step' }],
  source: table('marts.supplier_quality'),
  contract: {
    key: ['supplier_id', 'lot_id', 'week'],
    columns: [
      { name: 'supplier_id', type: 'text', nullable: false, description: 'Supplier code; each supplier sees only its own' },
      { name: 'lot_id', type: 'text', nullable: false, description: 'Fabric lot' },
      { name: 'week', type: 'date', nullable: false, description: 'Monday of the week' },
      { name: 'defects', type: 'bigint', description: 'Factory defect events on the lot' },
      { name: 'returns', type: 'bigint', description: 'Returned units made of the lot' },
      { name: 'contact_email', type: 'text', description: "Supplier's quality contact", classification: 'pii' },
    ],
  },
  metrics: {
    defect_events: { sql: 'sum(defects)', description: 'Defect events' },
    returns_total: { sql: 'sum(returns)', description: 'Returned units' },
  },
  checks: [
    check.notNull(['supplier_id', 'lot_id', 'week']),
    check.unique(['supplier_id', 'lot_id', 'week']),
    check.references('supplier_id', { table: table('shop.suppliers'), column: 'supplier_id' }),
    check.range('defects', { min: 0 }),
    check.pattern('lot_id', '^LOT-[0-9]{5}$', { severity: 'warn' }),
  ],
  slo: { freshness: '26h', availability: 0.99, window: '28d' },
  serve: [
    share({
      name: 'supplier_portal',
      to: 'suppliers',
      // each supplier reads only its own lots; its contact e-mail is redacted
      rowFilter: 'supplier_id',
      mask: ['pii'],
      consumers: [
        'SUP-001', 'SUP-002', 'SUP-003', 'SUP-004', 'SUP-005', 'SUP-006', 'SUP-007', 'SUP-008', 'SUP-009', 'SUP-010',
        'SUP-011', 'SUP-012', 'SUP-013', 'SUP-014', 'SUP-015', 'SUP-016', 'SUP-017', 'SUP-018', 'SUP-019', 'SUP-020',
        // the internal quality analysts: every supplier's lots, the e-mail as a keyed hash (joinable, not readable)
        { id: 'quality_analysts', tenant: null, mask: { pii: 'hash' } },
      ],
      // access lasts 30 days after the last run that served it; a consumer that reads nothing for 90 days loses it;
      // the owner is told 7 days ahead of either
      expiresAfter: '30d',
      sunsetAfter: '90d',
      schedule: { cron: '30 4 * * *', timezone: 'Europe/Berlin' },
    }),
  ],
});
