/** Schemas of serving targets: files, share, dashboard and reverse ETL, each a strict object so typos are caught. */
import { z } from 'zod';
import { expects, say, shown, strict, variant } from '../issues.js';
import type { Target, TargetSpec } from '../targets.js';
import { atLeastOneBound, BOUNDS_MISSING, BOUNDS_REVERSED, boundsInOrder } from './checks.js';
import { classification, columnName, duration, schedule, secretRef, snakeName, text } from './fields.js';
import { asDashboardObjects, dashboardTarget } from './dashboard.js';

const targetBase = {
  name: snakeName('target name', 'quality_review'),
  schedule: schedule.optional(),
};

const FILE_NAME_PLACEHOLDERS = ['product', 'target', 'partition', 'part', 'date', 'ext'];

const fileName = z.string(expects("a template such as '{product}-{partition}.{ext}'")).superRefine((value, ctx) => {
  const unknown = [...value.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!).filter((name) => !FILE_NAME_PLACEHOLDERS.includes(name));
  if (unknown.length > 0) {
    ctx.addIssue({ code: 'custom', message: say(`'{${unknown[0]}}' is not a placeholder lastmile fills in`, `use ${FILE_NAME_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`) });
  } else if (/[\\/]|\.\./.test(value) || value.trim() === '') {
    ctx.addIssue({ code: 'custom', message: say(`${shown(value)} is not a file name`, "write a name without folders, e.g. '{product}-{partition}.{ext}'") });
  }
});

const positiveInt = (example: number) =>
  z
    .number(expects(`a whole number, e.g. ${example}`))
    .int({ error: say("'{field}' is not a whole number", `write a count such as ${example}`) })
    .min(1, { error: say("'{field}' is below 1", `write a count such as ${example}`) });

const filesTarget = strict({
  kind: z.literal('files'),
  ...targetBase,
  format: z.enum(['csv', 'jsonl', 'parquet', 'xlsx'], {
    error: (issue) =>
      issue.input === undefined
        ? say(`'{field}' is missing`, "add format: 'csv', 'jsonl', 'parquet' or 'xlsx'")
        : say(`${shown(issue.input)} is not a file format`, "use 'csv', 'jsonl', 'parquet' or 'xlsx'"),
  }),
  compression: z
    .enum(['none', 'gzip', 'snappy', 'zstd'], { error: (issue) => say(`${shown(issue.input)} is not a compression`, "use 'gzip' (csv, jsonl), 'snappy' or 'zstd' (parquet), or 'none'") })
    .optional(),
  to: text("a folder such as './exchange/invoices' or a bucket URL such as 's3://exchange/invoices/'"),
  endpoint: z.url({ error: (issue) => say(`${shown(issue.input)} is not a URL`, "write the store's URL, e.g. 'http://minio.internal:9000'") }).optional(),
  region: text("a region such as 'eu-central-1'").optional(),
  credentials: strict(
    { accessKeyId: secretRef, secretAccessKey: secretRef },
    "{ accessKeyId: secret('EXCHANGE_S3_KEY_ID'), secretAccessKey: secret('EXCHANGE_S3_SECRET') }",
  ).optional(),
  columns: z.array(columnName).min(1).optional(),
  splitBy: columnName.optional(),
  rowsPerFile: positiveInt(1_000_000).optional(),
  fileName: fileName.optional(),
  consumers: z.array(text("a consumer id such as 'SUP-001'")).min(1).optional(),
  linkExpiry: duration.optional(),
  retention: strict({ keepLast: positiveInt(12).optional(), keepDays: positiveInt(90).optional() }, '{ keepLast: 12 }').optional(),
});

const TRUNCATE_UNITS = ['day', 'week', 'month', 'year'] as const;
const maskMethod = z.union(
  [
    z.enum(['hash', 'redact', 'null']),
    strict({ truncate: z.enum(TRUNCATE_UNITS) }, "{ truncate: 'month' }"),
    strict({ keepLast: z.number().int().min(0).max(64) }, '{ keepLast: 4 }'),
  ],
  { error: (issue) => say(`${shown(issue.input)} is not a mask`, "use 'hash', 'redact', 'null', { truncate: 'month' } or { keepLast: 4 }") },
);
/** `['pii']`, or `{ pii: 'hash', contact_email: { keepLast: 4 } }`: classifications and column names to a method. */
const maskSpec = z.union([z.array(classification), z.record(z.string(), maskMethod)], {
  error: (issue) => {
    // a map with one bad method: name the column and the method rather than the whole mask
    const input: unknown = issue.input;
    if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
      const bad = Object.entries(input).find(([, method]) => !maskMethod.safeParse(method).success);
      if (bad) return say(`${shown(bad[1])} is not a mask (for '${bad[0]}')`, "use 'hash', 'redact', 'null', { truncate: 'month' } or { keepLast: 4 }");
    }
    return say("'{field}' is not a mask list", "write mask: ['pii'] (redacted) or mask: { pii: 'hash', contact_email: { keepLast: 4 } }");
  },
});
/** A date `YYYY-MM-DD` or a duration such as `90d`. */
const expiry = z.string(expects("a date such as '2027-03-31' or a duration such as '90d'")).refine(
  (value) => (/^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/.test(value) && !Number.isNaN(Date.parse(value))) || duration.safeParse(value).success,
  { error: (issue) => say(`${shown(issue.input)} is neither a date nor a duration`, "write a date such as '2027-03-31' or a duration such as '90d' (from the first grant)") },
);
const consumerId = z
  .string(expects("a consumer id such as 'SUP-001'"))
  .refine((value) => value.trim() !== '' && value.length <= 40 && !/[\u0000-\u001f]/.test(value), {
    error: say("'{field}' is not a usable consumer id", 'use 1 to 40 printable characters, e.g. SUP-001'),
  });
const roleName = z.string(expects("a database role such as 'acme_reader'")).regex(/^[A-Za-z_][A-Za-z0-9_$]{0,55}$/, {
  error: (issue) => say(`${shown(issue.input)} is not a plain role name`, 'use letters, digits and underscores, starting with a letter (at most 56 characters)'),
});
const shareConsumer = z.union(
  [
    consumerId,
    strict(
      {
        id: consumerId,
        role: roleName.optional(),
        tenant: z.union([z.string(), z.null()]).optional(),
        attributes: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.union([z.string(), z.number(), z.boolean()])).optional(),
        columns: z.array(columnName).min(1).optional(),
        mask: maskSpec.optional(),
        expires: expiry.optional(),
      },
      "{ id: 'SUP-001', role: 'sup_001_reader', expires: '90d' }",
    ),
  ],
  { error: () => say("'{field}' is not a consumer", "write a consumer id such as 'SUP-001' or { id: 'SUP-001', role: '...', columns: [...] }") },
);

const shareTarget = strict({
  kind: z.literal('share'),
  ...targetBase,
  to: z.string(expects("the share's schema, e.g. 'suppliers'")).regex(/^[a-z_][a-z0-9_]{0,40}$/, {
    error: (issue) => say(`${shown(issue.input)} is not a schema name for the share`, "use lower-case letters, digits and underscores, e.g. 'suppliers'"),
  }),
  consumers: z.array(shareConsumer).min(1).optional(),
  rowFilter: z
    .union([columnName, strict({ where: text("a predicate over the source's columns such as 'region = :region'") }, "{ where: 'region = :region' }")])
    .optional(),
  mask: maskSpec.optional(),
  expiresAfter: duration.optional(),
  sunsetAfter: duration.optional(),
  noticeBefore: duration.optional(),
});

const httpUrl = (example: string) =>
  z.string(expects(`an http(s) URL such as '${example}'`)).refine(
    (value) => {
      try {
        return ['http:', 'https:'].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { error: (issue) => say(`${shown(issue.input)} is not an http(s) URL`, `write the endpoint's full URL, e.g. '${example}'`) },
  );

const batchSize = z
  .number(expects('a whole number of records, e.g. 200'))
  .int({ error: say("'{field}' is not a whole number", 'use a batch size between 1 and 10000') })
  .min(1, { error: say("'{field}' is below 1", 'use a batch size between 1 and 10000') })
  .max(10_000, { error: say("'{field}' is above 10000", 'use a batch size between 1 and 10000') });

const httpDestination = strict({
  type: z.literal('http'),
  url: httpUrl('https://crm.example.com/api/leads'),
  method: z.enum(['POST', 'PUT', 'PATCH']).optional(),
  auth: secretRef.optional(),
  batchSize: batchSize.optional(),
  timeout: duration.optional(),
});

const postgresDestination = strict({
  type: z.literal('postgres'),
  url: secretRef,
  table: z.string(expects("'schema.table'")).regex(/^[A-Za-z_][A-Za-z0-9_$]*\.[A-Za-z_][A-Za-z0-9_$]*$/, {
    error: (issue) => say(`${shown(issue.input)} is not a 'schema.table' name`, "write the destination table as 'schema.table'"),
  }),
});

const hubspotDestination = strict({
  type: z.literal('hubspot'),
  objectType: z.string(expects("a HubSpot object type such as 'contacts'")).regex(/^[A-Za-z0-9_-]{1,64}$/, {
    error: (issue) => say(`${shown(issue.input)} is not a HubSpot object type`, "write 'contacts', 'companies', 'deals' or a custom object's type id such as '2-1234567'"),
  }),
  idProperty: z.string(expects("a unique HubSpot property such as 'email'")).regex(/^[a-z0-9_]{1,100}$/, {
    error: (issue) => say(`${shown(issue.input)} is not a HubSpot property name`, 'HubSpot property names are lower-case letters, digits and underscores'),
  }),
  token: secretRef,
  baseUrl: httpUrl('https://api.hubapi.com').optional(),
  timeout: duration.optional(),
});

const destination = z.discriminatedUnion(
  'type',
  [httpDestination, postgresDestination, hubspotDestination],
  variant(
    'a destination',
    'type',
    "write { type: 'http', url: 'https://...', auth: secret('TOKEN') }, { type: 'postgres', url: secret('DB_URL'), table: 'schema.table' } or { type: 'hubspot', objectType: 'contacts', idProperty: 'email', token: secret('HUBSPOT_TOKEN') }",
  ),
);

const valueGuardrail = strict({ column: columnName, min: z.number().optional(), max: z.number().optional() })
  .refine(atLeastOneBound, { error: BOUNDS_MISSING })
  .refine(boundsInOrder, { error: BOUNDS_REVERSED });

const share = (example: string) =>
  z
    .number(expects(`a share between 0 and 1, e.g. ${example}`))
    .min(0, { error: say("'{field}' is below 0", `write a share between 0 and 1, e.g. ${example} for ${Number(example) * 100} %`) })
    .max(1, { error: say("'{field}' is above 1", `write a share between 0 and 1, e.g. ${example} for ${Number(example) * 100} %`) });

const change = z
  .number(expects('a fraction such as 0.2 (20 %)'))
  .min(0, { error: say("'{field}' is negative", 'write the largest allowed change as a fraction, e.g. 0.2 for 20 %') });

const totalGuardrail = strict({ column: columnName, maxIncrease: change.optional(), maxDecrease: change.optional() }, "{ column: 'bid', maxIncrease: 0.2 }").refine(
  (value) => value.maxIncrease !== undefined || value.maxDecrease !== undefined,
  { error: say('the total guardrail has no limit', 'add maxIncrease and/or maxDecrease, e.g. { column: \'bid\', maxIncrease: 0.2 }') },
);

const perSecond = (example: number) =>
  z.number(expects(`a rate per second, e.g. ${example}`)).positive({ error: say("'{field}' is not above 0", `write a rate per second, e.g. ${example}`) });

const reverseEtlTarget = strict({
  kind: z.literal('reverseEtl'),
  ...targetBase,
  destination,
  key: z.union([columnName, z.array(columnName).min(1)], {
    error: (issue) =>
      say(issue.input === undefined ? `'{field}' is missing` : `'{field}' is not a column or a list of columns`, "name the column(s) identifying a record at the destination, e.g. key: 'lead_id'"),
  }),
  mapping: z
    .record(text('a destination field name'), columnName, expects("{ destinationField: 'contract_column' }"))
    .refine((value) => Object.keys(value).length > 0, { error: say('the mapping is empty', "map destination fields to contract columns, e.g. { leadScore: 'score' }") }),
  mode: z
    .enum(['insert', 'update', 'upsert', 'mirror'], { error: (issue) => say(`${shown(issue.input)} is not a sync mode`, "use 'insert', 'update', 'upsert' or 'mirror'") })
    .optional(),
  nulls: z.enum(['send', 'skip'], { error: (issue) => say(`${shown(issue.input)} is not a way to treat NULLs`, "use 'send' or 'skip' (never overwrite with NULL)") }).optional(),
  batchSize: batchSize.optional(),
  rateLimit: strict({ requestsPerSecond: perSecond(10).optional(), rowsPerSecond: perSecond(1000).optional() }, '{ requestsPerSecond: 10 }').optional(),
  concurrency: z
    .number(expects('a whole number of batches in flight, e.g. 4'))
    .int({ error: say("'{field}' is not a whole number", 'use 1 to 32 batches in flight') })
    .min(1, { error: say("'{field}' is below 1", 'use 1 to 32 batches in flight') })
    .max(32, { error: say("'{field}' is above 32", 'use 1 to 32 batches in flight') })
    .optional(),
  retryRejected: z.enum(['next-sync', 'on-change'], { error: (issue) => say(`${shown(issue.input)} is not a retry rule`, "use 'next-sync' or 'on-change'") }).optional(),
  guardrails: strict({
    values: z.array(valueGuardrail).optional(),
    maxRows: z.number().int().min(1).optional(),
    maxChangedShare: share('0.5').optional(),
    maxDeletedShare: share('0.1').optional(),
    totals: z.array(totalGuardrail).optional(),
  }).optional(),
  approvalTimeout: duration.optional(),
});

export const TARGET_BUILDERS = 'build targets with files({...}), share({...}), dashboard({...}) or reverseEtl({...})';

export const targetSpec = z.discriminatedUnion('kind', [filesTarget, shareTarget, dashboardTarget, reverseEtlTarget], variant('a serving target', 'kind', TARGET_BUILDERS));

export const targetSchema = targetSpec.transform((spec): Target => {
  if (spec.kind === 'dashboard') return { ...spec, objects: asDashboardObjects(spec.objects) };
  const target: TargetSpec = spec;
  if (target.kind !== 'reverseEtl') return target;
  return { ...target, key: typeof target.key === 'string' ? [target.key] : [...target.key] };
});
