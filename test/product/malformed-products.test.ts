import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProblems, scanProducts } from '../../src/index.js';
import type { Problem, ProductScan } from '../../src/index.js';
import { edit, validProductModule } from './support/modules.js';
import { createProject } from './support/project.js';
import type { TempProject } from './support/project.js';

interface Case {
  /** What the user got wrong. */
  title: string;
  edits: readonly (readonly [string, string])[];
  /** The field path the problem must name. */
  path: string;
  /** What the message must say. */
  says: RegExp;
  /** What the fix must say, when it matters. */
  fix?: RegExp;
  /** Text that must not appear anywhere in the report (a leaked secret). */
  hides?: string;
}

const cases: Case[] = [
  { title: 'product name not snake_case', edits: [["name: 'NAME'", "name: 'Returns By Supplier'"]], path: 'name', says: /'Returns By Supplier' is not snake_case/, fix: /returns_by_supplier/ },
  { title: 'version not semver', edits: [["version: '1.2.0'", "version: '1.2'"]], path: 'version', says: /'1\.2' is not a semantic version/ },
  { title: 'owner email invalid', edits: [["email: 'merch-analytics@example.com'", "email: 'merch-analytics'"]], path: 'owner.email', says: /'merch-analytics' is not an email address/ },
  { title: 'unknown audience', edits: [["audience: 'internal'", "audience: 'partners'"]], path: 'audience', says: /'partners' is not an audience/, fix: /'internal'.*'external'/ },
  { title: 'no users', edits: [["users: [{ who: 'quality managers', action: 'pause orders from suppliers whose return rate rises' }]", 'users: []']], path: 'users', says: /no users are named/ },
  { title: 'missing domain', edits: [["  domain: 'merchandising',\n", '']], path: 'domain', says: /'domain' is missing/, fix: /add domain/ },
  { title: 'typo in a top-level field', edits: [['  description:', '  descripton:']], path: 'descripton', says: /unknown field 'descripton'/, fix: /Did you mean 'description'/ },
  {
    title: 'source written as a plain string',
    edits: [["source: sql`select supplier_id, supplier, week, units, returns from ${table('marts.returns_weekly')}`", "source: 'select * from marts.returns_weekly'"]],
    path: 'source',
    says: /not a query or a table reference/,
    fix: /sql tag/,
  },
  { title: 'a string interpolated into sql', edits: [["${table('marts.returns_weekly')}`", "${'marts.returns_weekly'}`"]], path: 'source.tables[0]', says: /not a table\('schema\.table'\) reference/ },
  { title: 'table without schema', edits: [["${table('marts.returns_weekly')}`", "${table('returns_weekly')}`"]], path: 'source.tables[0].schema', says: /schema part/ },
  { title: 'unknown column type', edits: [["{ name: 'supplier', type: 'text', classification: 'public' }", "{ name: 'supplier', type: 'string', classification: 'public' }"]], path: 'contract.columns[1].type', says: /'string' is not a column type/ },
  { title: 'unknown classification', edits: [["classification: 'public'", "classification: 'confidential'"]], path: 'contract.columns[1].classification', says: /'confidential' is not a classification/ },
  { title: 'column declared twice', edits: [["{ name: 'units', type: 'bigint' }", "{ name: 'week', type: 'bigint' }"]], path: 'contract.columns[3].name', says: /column 'week' is declared twice/ },
  { title: 'unknown column in contract.key', edits: [["key: ['supplier_id', 'week']", "key: ['supplier_id', 'weeks']"]], path: 'contract.key[1]', says: /unknown column 'weeks'/, fix: /Did you mean 'week'/ },
  { title: 'unknown column in a metric by', edits: [["by: ['supplier_id', 'week'] },", "by: ['supplier_id', 'month'] },"]], path: 'metrics.return_rate.by[1]', says: /unknown column 'month'/ },
  { title: 'metric name not snake_case', edits: [['units_ordered:', "'Units-Ordered':"]], path: 'metrics["Units-Ordered"]', says: /metric name 'Units-Ordered' is not snake_case/ },
  { title: 'unknown column in a check', edits: [["check.notNull(['supplier_id', 'week'])", "check.notNull(['supplier_id', 'wek'])"]], path: 'checks[0].columns[1]', says: /unknown column 'wek'/, fix: /Did you mean 'week'/ },
  { title: 'check builder passed uncalled', edits: [["check.notNull(['supplier_id', 'week']),", 'check.notNull,']], path: 'checks[0]', says: /is a function, not a check/, fix: /call it/ },
  { title: 'unknown check severity', edits: [["severity: 'warn'", "severity: 'warning'"]], path: 'checks[3].severity', says: /'warning' is not a severity/ },
  { title: 'two checks with the same name', edits: [["name: 'returns_not_above_units'", "name: 'unique_supplier_id_week'"]], path: 'checks[2].name', says: /two checks are named 'unique_supplier_id_week'/ },
  { title: 'range with min above max', edits: [["check.freshness('week', { maxAge: '8d', severity: 'warn' })", "check.range('units', { min: 10, max: 1 })"]], path: 'checks[3]', says: /min is greater than max/ },
  { title: 'invalid regular expression', edits: [["check.freshness('week', { maxAge: '8d', severity: 'warn' })", "check.pattern('supplier_id', '[unclosed')"]], path: 'checks[3].pattern', says: /not a valid regular expression/ },
  { title: 'bad check duration', edits: [["maxAge: '8d'", "maxAge: '8 days'"]], path: 'checks[3].maxAge', says: /'8 days' is not a duration/ },
  { title: 'bad slo duration', edits: [["freshness: '26h'", "freshness: '26 hours'"]], path: 'slo.freshness', says: /'26 hours' is not a duration/, fix: /'26h'/ },
  { title: 'defectFree above 1', edits: [['defectFree: 0.95', 'defectFree: 95']], path: 'slo.defectFree', says: /is 95, but it is a share between 0/, fix: /95% is 0\.95/ },
  { title: 'deliverBy not a time with zone', edits: [["deliverBy: '07:00 Europe/Berlin'", "deliverBy: '7am Berlin'"]], path: 'slo.deliverBy', says: /not a time of day with a time zone/ },
  {
    title: 'files: a compression the format does not take',
    edits: [["format: 'csv', to: './exchange/quality'", "format: 'csv', compression: 'snappy', to: './exchange/quality'"]],
    path: 'serve[1].compression',
    says: /csv files cannot be compressed with snappy/,
    fix: /'none' or 'gzip'/,
  },
  {
    title: 'files: splitBy and rowsPerFile together',
    edits: [["splitBy: 'supplier_id' })", "splitBy: 'supplier_id', rowsPerFile: 1000 })"]],
    path: 'serve[1].rowsPerFile',
    says: /splitBy and rowsPerFile are both set/,
  },
  {
    title: 'files: consumers of a local folder',
    edits: [["splitBy: 'supplier_id' })", "splitBy: 'supplier_id', consumers: ['SUP-001'] })"]],
    path: 'serve[1].consumers',
    says: /only applies to a bucket/,
    fix: /download links need a bucket/,
  },
  {
    title: 'files: an unknown file-name placeholder',
    edits: [["splitBy: 'supplier_id' })", "splitBy: 'supplier_id', fileName: '{supplier}.{ext}' })"]],
    path: 'serve[1].fileName',
    says: /'\{supplier\}' is not a placeholder/,
    fix: /\{partition\}/,
  },
  {
    title: 'files: a bucket URL without a bucket',
    edits: [["to: './exchange/quality'", "to: 's3://'"]],
    path: 'serve[1].to',
    says: /does not name a bucket/,
  },
  {
    title: 'deliverBy without a scheduled target',
    edits: [["      schedule: { cron: '0 5 * * *', timezone: 'Europe/Berlin' },\n", '']],
    path: 'slo.deliverBy',
    says: /no target of this product runs on a schedule/,
    fix: /schedule: \{ cron:/,
  },
  { title: 'deliverBy with unknown zone', edits: [["deliverBy: '07:00 Europe/Berlin'", "deliverBy: '07:00 Europe/Berlim'"]], path: 'slo.deliverBy', says: /'Europe\/Berlim' is not a known time zone/, fix: /Europe\/Berlin/ },
  { title: 'slo without window', edits: [[", window: '28d' }", ' }']], path: 'slo.window', says: /'window' is missing/ },
  { title: 'cron hour out of range', edits: [["cron: '0 5 * * *'", "cron: '0 25 * * *'"]], path: 'serve[0].schedule.cron', says: /'0 25 \* \* \*' is not a valid cron expression: hour 25 is out of range 0-23/ },
  { title: 'cron with eight fields', edits: [["cron: '0 5 * * *'", "cron: '0 0 5 * * * * *'"]], path: 'serve[0].schedule.cron', says: /expected 5, 6 or 7 fields, got 8/ },
  { title: 'cron with an unknown day name', edits: [["cron: '0 5 * * *'", "cron: '0 5 * * mon-fry'"]], path: 'serve[0].schedule.cron', says: /day-of-week value "fry" is not a number or name/ },
  { title: 'a paused schedule without a reason', edits: [["timezone: 'Europe/Berlin' }", "timezone: 'Europe/Berlin', paused: ' ' }"]], path: 'serve[0].schedule.paused', says: /an empty reason/, fix: /say why the schedule is paused/ },
  { title: 'unknown time zone', edits: [["timezone: 'Europe/Berlin'", "timezone: 'Europe/Berln'"]], path: 'serve[0].schedule.timezone', says: /'Europe\/Berln' is not a known time zone/, fix: /Did you mean 'Europe\/Berlin'/ },
  { title: 'unknown metric in a dashboard object', edits: [["metrics: ['return_rate'], by", "metrics: ['return_rat'], by"]], path: 'serve[0].objects[0].metrics[0]', says: /unknown metric 'return_rat'/, fix: /Did you mean 'return_rate'/ },
  { title: 'dimension a metric does not allow', edits: [["by: ['supplier_id', 'week'] }],", "by: ['supplier_id', 'units'] }],"]], path: 'serve[0].objects[0].by[1]', says: /metric 'return_rate' may not be grouped by 'units'/ },
  { title: "dashboard: dependsOn an unknown object", edits: [["objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }],", "objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'], dependsOn: ['return_rate_wekly'] }],"]], path: "serve[0].objects[0].dependsOn[0]", says: /unknown object 'return_rate_wekly'/ },
  { title: "dashboard: objects in a cycle", edits: [["objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }],", "objects: [{ name: 'a_obj', sql: sql`select 1 as k`, uniqueKey: ['k'], dependsOn: ['b_obj'] }, { name: 'b_obj', sql: sql`select k from ${table('dashboards.a_obj')}`, uniqueKey: ['k'] }],"]], path: "serve[0].objects[0].dependsOn", says: /cycle: a_obj → b_obj → a_obj/ },
  { title: "dashboard: concurrently without a unique key", edits: [["objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }],", "objects: [{ name: 'totals', sql: sql`select 1 as k`, refresh: 'concurrently' }],"]], path: "serve[0].objects[0].refresh", says: /needs a unique index/ },
  { title: "dashboard: a concurrently view reading a swapped table", edits: [["objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }],", "objects: [{ name: 'base', sql: sql`select 1 as k`, refresh: 'swap' }, { name: 'top', sql: sql`select k from ${table('dashboards.base')}`, uniqueKey: ['k'] }],"]], path: "serve[0].objects[1].refresh", says: /'top' is refreshed concurrently but reads 'base', which is rebuilt by swap/ },
  { title: "dashboard: both sql and metrics", edits: [["objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }],", "objects: [{ name: 'both', sql: sql`select 1 as k`, metrics: ['return_rate'] }],"]], path: "serve[0].objects[0].metrics", says: /both sql and metrics/ },
  { title: "dashboard: neither sql nor metrics", edits: [["objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }],", "objects: [{ name: 'empty' }],"]], path: "serve[0].objects[0].sql", says: /neither what metrics it holds nor its SQL/ },
  { title: "dashboard: freshness column the object lacks", edits: [["objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }],", "objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }], freshness: { object: 'return_rate_weekly', column: 'day' },"]], path: "serve[0].freshness.column", says: /object 'return_rate_weekly' has no column 'day'/ },
  { title: "dashboard: freshness of an unknown object", edits: [["objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }],", "objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }], freshness: { object: 'weekly', column: 'week' },"]], path: "serve[0].freshness.object", says: /unknown object 'weekly'/ },
  { title: "dashboard: metabase without an api key", edits: [["objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }],", "objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }], bi: [{ tool: 'metabase', url: 'https://metabase.example.com', dashboards: [4] }],"]], path: "serve[0].bi[0].apiKey", says: /'apiKey' is missing/ },
  { title: "dashboard: an unknown BI tool", edits: [["objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }],", "objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }], bi: [{ tool: 'looker', url: 'https://looker.example.com' }],"]], path: "serve[0].bi[0].tool", says: /looker/ },
  { title: "dashboard: a BI URL that is not http", edits: [["objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }],", "objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }], bi: [{ tool: 'superset', url: 'ftp://bi', token: secret('SUPERSET_TOKEN'), charts: [1] }],"]], path: "serve[0].bi[0].url", says: /'ftp:\/\/bi' is not an http\(s\) URL/ },
  { title: "dashboard: an async refresh with a bad poll interval", edits: [["objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }],", "objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }], bi: [{ tool: 'asyncRefresh', name: 'powerbi', url: 'https://api.powerbi.com/x/refreshes', pollEvery: 'often' }],"]], path: "serve[0].bi[0].pollEvery", says: /'often' is not a duration/ },
  { title: "dashboard: an object name too long for its suffixes", edits: [["objects: [{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['supplier_id', 'week'] }],", "objects: [{ name: 'return_rate_weekly_by_supplier_and_fabric_lot', metrics: ['return_rate'], by: ['supplier_id', 'week'] }],"]], path: "serve[0].objects[0].name", says: /longer than 40 characters/ },
  { title: 'a latency objective with nothing to time', edits: [["window: '28d' }", "latency: { p95: '1s' }, window: '28d' }"]], path: 'slo.latency.queries', says: /the latency objective has no queries to time/, fix: /dashboard target its queries/ },
  { title: 'duplicate target names', edits: [["name: 'supplier_pack'", "name: 'quality_review'"]], path: 'serve[1].name', says: /two targets are named 'quality_review'/ },
  { title: 'typo in a target option', edits: [["format: 'csv'", "formt: 'csv'"]], path: 'serve[1].formt', says: /unknown field 'formt'/, fix: /Did you mean 'format'/ },
  { title: 'unknown file format', edits: [["format: 'csv'", "format: 'xml'"]], path: 'serve[1].format', says: /'xml' is not a file format/ },
  { title: 'unknown column in files splitBy', edits: [["splitBy: 'supplier_id'", "splitBy: 'supplier_code'"]], path: 'serve[1].splitBy', says: /unknown column 'supplier_code'/ },
  { title: 'unknown target kind', edits: [["files({ name: 'supplier_pack', format: 'csv', to: './exchange/quality', splitBy: 'supplier_id' })", "{ kind: 'email', name: 'supplier_pack', to: 'quality@example.com' }"]], path: 'serve[1].kind', says: /'email' is not a known kind of a serving target/, fix: /files\(\{\.\.\.\}\)/ },
  { title: 'unknown column in share rowFilter', edits: [["rowFilter: 'supplier_id'", "rowFilter: 'vendor_id'"]], path: 'serve[2].rowFilter', says: /unknown column 'vendor_id'/ },
  { title: 'share: a mask on an unknown column', edits: [["share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: ['pii'], expiresAfter: '30d' })", "share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: { contact_mail: 'hash' }, expiresAfter: '30d' })"]], path: 'serve[2].mask.contact_mail', says: /unknown column 'contact_mail'/ },
  { title: 'share: an unknown mask method', edits: [["share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: ['pii'], expiresAfter: '30d' })", "share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: { supplier_id: 'scramble' }, expiresAfter: '30d' })"]], path: 'serve[2].mask', says: /'scramble' is not a mask \(for 'supplier_id'\)/ },
  { title: 'share: a consumer column the contract lacks', edits: [["share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: ['pii'], expiresAfter: '30d' })", "share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: ['pii'], expiresAfter: '30d', consumers: [{ id: 'SUP-1', columns: ['supplier_id', 'margin'] }] })"]], path: 'serve[2].consumers[0].columns[1]', says: /unknown column 'margin'/ },
  { title: 'share: the same consumer twice (by its snake name)', edits: [["share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: ['pii'], expiresAfter: '30d' })", "share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: ['pii'], expiresAfter: '30d', consumers: ['SUP-1', 'sup_1'] })"]], path: 'serve[2].consumers[1]', says: /consumer 'sup_1' is listed twice/ },
  { title: 'share: an expiry that is neither a date nor a duration', edits: [["share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: ['pii'], expiresAfter: '30d' })", "share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: ['pii'], consumers: [{ id: 'SUP-1', expires: 'next month' }] })"]], path: 'serve[2].consumers[0].expires', says: /'next month' is neither a date nor a duration/ },
  { title: 'share: a sunsetAfter that is not a duration', edits: [["share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: ['pii'], expiresAfter: '30d' })", "share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: ['pii'], sunsetAfter: 'quarterly' })"]], path: 'serve[2].sunsetAfter', says: /'quarterly' is not a duration/ },
  { title: 'share: a role that is not a plain name', edits: [["share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: ['pii'], expiresAfter: '30d' })", "share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: ['pii'], consumers: [{ id: 'SUP-1', role: 'x; drop role postgres' }] })"]], path: 'serve[2].consumers[0].role', says: /is not a plain role name/ },
  { title: 'share: a schema that is not a plain name', edits: [["share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: ['pii'], expiresAfter: '30d' })", "share({ name: 'supplier_portal', to: 'Suppliers Portal', rowFilter: 'supplier_id', mask: ['pii'], expiresAfter: '30d' })"]], path: 'serve[2].to', says: /is not a schema name for the share/ },
  { title: 'share: a rowFilter predicate naming a value the consumer lacks', edits: [["share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: ['pii'], expiresAfter: '30d' })", 'share({ name: \'supplier_portal\', to: \'suppliers\', rowFilter: { where: "supplier_id = :supplier and week::text > \'2026\'" }, mask: [\'pii\'], consumers: [{ id: \'SUP-1\', attributes: { region: \'north\' } }] })']], path: 'serve[2].consumers[0]', says: /the rowFilter uses :supplier, which consumer SUP-1 does not define/, fix: /:id, :region/ },
  { title: 'share: a tenant without a rowFilter', edits: [["share({ name: 'supplier_portal', to: 'suppliers', rowFilter: 'supplier_id', mask: ['pii'], expiresAfter: '30d' })", "share({ name: 'supplier_portal', to: 'suppliers', mask: ['pii'], consumers: [{ id: 'SUP-1', tenant: 'SUP-1' }] })"]], path: 'serve[2].consumers[0].tenant', says: /a tenant is set but the share has no rowFilter/ },
  { title: 'unknown column in a reverse ETL mapping', edits: [["weeklyUnits: 'units'", "weeklyUnits: 'unit'"]], path: 'serve[3].mapping.weeklyUnits', says: /unknown column 'unit'/, fix: /Did you mean 'units'/ },
  { title: 'unknown column in a guardrail', edits: [["{ column: 'units', min: 0", "{ column: 'bid', min: 0"]], path: 'serve[3].guardrails.values[0].column', says: /unknown column 'bid'/ },
  { title: 'invalid destination URL', edits: [["url: 'https://crm.example.com/api/suppliers'", "url: 'crm.example.com/api'"]], path: 'serve[3].destination.url', says: /not an http\(s\) URL/ },
  { title: 'secret with an invalid variable name', edits: [["secret('CRM_TOKEN')", "secret('crm token')"]], path: 'serve[3].destination.auth.env', says: /'crm token' is not an environment variable name/ },
  {
    title: 'literal token',
    edits: [["auth: secret('CRM_TOKEN') }", "auth: secret('CRM_TOKEN'), token: 'tok_live_8f2a61' }"]],
    path: 'serve[3].destination.token',
    says: /'token' holds a literal credential/,
    fix: /secret\('/,
    hides: 'tok_live_8f2a61',
  },
  {
    title: 'literal bearer value instead of secret()',
    edits: [["auth: secret('CRM_TOKEN')", "auth: 'Bearer eyJhbGciOi'"]],
    path: 'serve[3].destination.auth',
    says: /literal credential/,
    hides: 'eyJhbGciOi',
  },
  {
    title: 'connection string with a password',
    edits: [["to: './exchange/quality'", "to: 'sftp://partner:hunter2@files.example.com/quality'"]],
    path: 'serve[1].to',
    says: /connection string with a password/,
    hides: 'hunter2',
  },
  // reverse ETL: the destination must be able to tell records apart, and guardrails must guard numbers that are sent
  { title: 'a sync key column not mapped', edits: [["mapping: { externalId: 'supplier_id', weeklyUnits: 'units' }", "mapping: { weeklyUnits: 'units' }"]], path: 'serve[3].key', says: /key column 'supplier_id' is not sent/, fix: /externalId: 'supplier_id'/ },
  { title: 'a sync mode that does not exist', edits: [["key: 'supplier_id',\n", "key: 'supplier_id',\n      mode: 'replace',\n"]], path: 'serve[3].mode', says: /'replace' is not a sync mode/, fix: /'mirror'/ },
  { title: 'a total guardrail on text', edits: [["guardrails: { values: [{ column: 'units', min: 0, max: 1000000 }] }", "guardrails: { totals: [{ column: 'supplier_id', maxIncrease: 0.2 }] }"]], path: 'serve[3].guardrails.totals[0].column', says: /guardrail column 'supplier_id' is text, not a number/ },
  { title: 'a delete budget above 1', edits: [["guardrails: { values: [{ column: 'units', min: 0, max: 1000000 }] }", 'guardrails: { maxDeletedShare: 10 }']], path: 'serve[3].guardrails.maxDeletedShare', says: /'maxDeletedShare' is above 1/ },
  {
    title: "HubSpot's idProperty not mapped to the key",
    edits: [["destination: { type: 'http', url: 'https://crm.example.com/api/suppliers', auth: secret('CRM_TOKEN') }", "destination: { type: 'hubspot', objectType: 'companies', idProperty: 'supplier_code', token: secret('HUBSPOT_TOKEN') }"]],
    path: 'serve[3].destination.idProperty',
    says: /idProperty 'supplier_code' is not mapped to the key column 'supplier_id'/,
  },
];

describe('malformed product modules', () => {
  let project: TempProject;
  let scan: ProductScan;
  let report: string;
  const files = new Map<Case, string>();

  beforeAll(async () => {
    project = await createProject();
    // Every case is its own module in one products/ folder, loaded in one pass: all problems of all files at once.
    for (const [index, testCase] of cases.entries()) {
      const name = `case_${String(index).padStart(2, '0')}`;
      const text = edit(validProductModule('NAME'), testCase.edits).replace("'NAME'", `'${name}'`);
      files.set(testCase, await project.write(`products/${name}.ts`, text));
    }
    await project.write('products/valid.ts', validProductModule('valid_product'));
    scan = await scanProducts({ dir: project.productsDir });
    report = formatProblems(scan.problems);
  });

  afterAll(async () => {
    await project?.remove();
  });

  it(`has at least 30 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it('loads the unedited module cleanly, next to the broken ones', () => {
    const valid = path.join(project.productsDir, 'valid.ts');
    expect(scan.problems.filter((problem) => problem.file === valid)).toEqual([]);
    expect(scan.products.map((product) => product.name)).toEqual(['valid_product']);
  });

  it('reports a problem for every broken file in the same run', () => {
    const withProblems = new Set(scan.problems.map((problem) => problem.file));
    for (const file of files.values()) expect(withProblems, file).toContain(file);
  });

  it.each(cases)('$title', (testCase) => {
    const file = files.get(testCase)!;
    const problems = scan.problems.filter((problem) => problem.file === file);
    const match = problems.find((problem) => problem.path === testCase.path && testCase.says.test(problem.message));
    expect(match, `expected ${testCase.path}: ${testCase.says} in\n${formatProblems(problems)}`).toBeDefined();
    const problem = match as Problem;
    if (testCase.fix) expect(problem.fix).toMatch(testCase.fix);
    expect(problem.fix.length).toBeGreaterThan(10);
    // The paragraph people read names the file, the field and says what is wrong.
    const paragraph = report.split('\n\n').find((line) => line.startsWith(`${file}, ${testCase.path} `));
    expect(paragraph, report).toBeDefined();
    expect(paragraph).toContain(problem.message);
    expect(paragraph).toContain('Fix:');
    if (testCase.hides) expect(report).not.toContain(testCase.hides);
  });

  it('names the product and the target a problem belongs to', () => {
    const cron = files.get(cases.find((testCase) => testCase.title === 'cron hour out of range')!)!;
    const problem = scan.problems.find((candidate) => candidate.file === cron && candidate.path === 'serve[0].schedule.cron');
    expect(problem).toMatchObject({ product: expect.stringMatching(/^case_/), target: 'quality_review' });
  });
});
