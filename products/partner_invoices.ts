import { check, defineProduct, files, table } from 'lastmile';

export default defineProduct({
  name: 'partner_invoices',
  version: '1.0.0',
  owner: { team: 'finance-data', email: 'finance-data@example.com' },
  domain: 'finance',
  description: 'Monthly invoice lines per supplier, exchanged as files with the suppliers and the accounting system.',
  audience: 'external',
  users: [
    { who: 'supplier accounts receivable', action: 'reconcile the month and issue the invoice' },
    { who: 'accounts payable', action: 'approve supplier payments against the invoiced amount' },
  ],
  source: table('marts.partner_invoices'),
  contract: {
    key: ['invoice_month', 'supplier_id'],
    columns: [
      { name: 'invoice_month', type: 'date', nullable: false, description: 'First day of the invoiced month', classification: 'public' },
      { name: 'supplier_id', type: 'text', nullable: false, description: 'Supplier code', classification: 'public' },
      { name: 'supplier', type: 'text', description: 'Supplier name', classification: 'public' },
      { name: 'lines', type: 'bigint', description: 'Order lines with fabric from the supplier' },
      { name: 'units', type: 'bigint', description: 'Units on those lines' },
      { name: 'amount', type: 'numeric(14,2)', description: 'Invoiced amount', classification: 'internal' },
    ],
  },
  metrics: {
    invoiced_amount: { sql: 'sum(amount)', description: 'Total invoiced', by: ['invoice_month', 'supplier_id'] },
  },
  checks: [
    check.notNull(['invoice_month', 'supplier_id', 'amount']),
    check.unique(['invoice_month', 'supplier_id']),
    check.range('amount', { min: 0 }),
    check.rowPredicate('units >= lines', { name: 'units_cover_lines' }),
    check.freshness('invoice_month', { maxAge: '40d' }),
    check.rowCount({ min: 1, severity: 'warn', name: 'invoices_present' }),
  ],
  slo: { availability: 0.995, defectFree: 0.99, deliverBy: '09:00 Europe/Berlin', window: '90d' },
  serve: [
    files({
      name: 'monthly_csv',
      format: 'csv',
      to: './exchange/partner-invoices/csv',
      splitBy: 'supplier_id', // one file per supplier: each partner downloads only its own
      fileName: 'invoices-{partition}.{ext}',
      retention: { keepLast: 12 }, // a year of monthly versions
      schedule: { cron: '0 6 2 * *', timezone: 'Europe/Berlin' },
    }),
    files({
      name: 'monthly_parquet',
      format: 'parquet',
      compression: 'snappy',
      to: './exchange/partner-invoices/parquet',
      retention: { keepLast: 12 },
      schedule: { cron: '0 6 2 * *', timezone: 'Europe/Berlin' },
    }),
  ],
});
