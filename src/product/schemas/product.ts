/** The schema of a whole product: identity, contract, metrics, checks, SLO and targets. */
import { z } from 'zod';
import type { ColumnType } from '../column-types.js';
import { COLUMN_TYPE_HELP, isColumnType } from '../column-types.js';
import { expects, say, shown, strict } from '../issues.js';
import type { DeliverBy } from '../model.js';
import type { SemVer } from '../names.js';
import { SEMVER } from '../names.js';
import { isTimeZone, timeZoneFix } from '../../time/timezone.js';
import { checkSchema } from './checks.js';
import { classification, columnName, duration, snakeName, source, text } from './fields.js';
import { TARGET_BUILDERS, targetSchema } from './targets.js';

const fraction = (example: number) =>
  z.number(expects(String(example))).refine((value) => value > 0 && value <= 1, {
    error: (issue) =>
      say(
        `'{field}' is ${String(issue.input)}, but it is a share between 0 (exclusive) and 1`,
        `write a share such as ${example} for ${example * 100}%` +
          (typeof issue.input === 'number' && issue.input > 1 && issue.input <= 100 ? `; ${String(issue.input)}% is ${issue.input / 100}` : ''),
      ),
  });

/** `HH:MM[:SS] Zone`: hours, minutes, optional seconds, the IANA zone. */
export const DELIVER_BY = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))? (\S+)$/;

const deliverBy = z.custom<DeliverBy>().superRefine((value, ctx) => {
  const match = typeof value === 'string' ? DELIVER_BY.exec(value) : null;
  if (!match) {
    ctx.addIssue({ code: 'custom', message: say(`${shown(value)} is not a time of day with a time zone`, "write 'HH:MM Zone', e.g. '07:00 Europe/Berlin'") });
  } else if (!isTimeZone(match[4])) {
    ctx.addIssue({ code: 'custom', message: say(`'${match[4]}' is not a known time zone`, timeZoneFix(match[4])) });
  }
});

export const slo = strict(
  {
    freshness: duration.optional(),
    availability: fraction(0.99).optional(),
    defectFree: fraction(0.95).optional(),
    deliverBy: deliverBy.optional(),
    latency: strict(
      {
        p95: duration,
        queries: z
          .record(snakeName('query name', 'top_suppliers'), source, expects("{ top_suppliers: sql`select ...` }"))
          .refine((value) => Object.keys(value).length > 0, {
            error: say('no queries are named', "name the queries consumers run, e.g. queries: { top_suppliers: sql`select ...` }"),
          })
          .optional(),
        samples: z
          .number(expects('a whole number of runs, e.g. 5'))
          .int({ error: say("'{field}' is not a whole number", 'write a count such as 5') })
          .min(1, { error: say("'{field}' is below 1", 'time each query at least once, e.g. samples: 5') })
          .max(1000, { error: say("'{field}' is above 1000", 'a few runs are enough for a p95, e.g. samples: 20') })
          .optional(),
      },
      "{ p95: '800ms', queries: { top_suppliers: sql`select ...` } }",
    ).optional(),
    objective: fraction(0.99).optional(),
    window: duration,
  },
  "{ freshness: '26h', availability: 0.99, window: '28d' }",
);

const column = strict(
  {
    name: columnName,
    type: z.custom<ColumnType>((value) => typeof value === 'string' && isColumnType(value), {
      error: (issue) =>
        issue.input === undefined
          ? say(`'{field}' is missing`, `add {field}: ${COLUMN_TYPE_HELP.replace(/^use /, '')}`)
          : say(`${shown(issue.input)} is not a column type lastmile knows`, COLUMN_TYPE_HELP),
    }),
    nullable: z.boolean(expects('true or false')).default(true),
    description: text('a sentence').optional(),
    classification: classification.default('internal'),
  },
  "{ name: 'supplier_id', type: 'text' }",
);

export const contract = strict(
  {
    key: z.array(columnName, expects("a list of column names, e.g. ['supplier_id', 'week']")).default([]),
    columns: z
      .array(column, expects("a list of columns, e.g. [{ name: 'supplier_id', type: 'text' }]"))
      .min(1, { error: say('the contract has no columns', "list the columns the product serves: [{ name: 'supplier_id', type: 'text' }]") }),
  },
  "{ key: ['supplier_id'], columns: [{ name: 'supplier_id', type: 'text' }] }",
);

const metric = strict(
  {
    sql: text("an aggregate SQL expression such as 'sum(returns)::numeric / nullif(sum(units), 0)'"),
    description: text('a sentence').optional(),
    by: z.array(columnName, expects("a list of contract columns, e.g. ['supplier_id', 'week']")).optional(),
  },
  "{ sql: 'sum(units)', description: 'Units ordered' }",
);

export const metrics = z
  .record(snakeName('metric name', 'return_rate'), metric, expects("{ return_rate: { sql: 'sum(returns)::numeric / nullif(sum(units), 0)' } }"))
  .default({});

const user = strict(
  { who: text("who uses it, e.g. 'quality managers'"), action: text("the action the data triggers, e.g. 'pause orders from suppliers whose return rate rises'") },
  "{ who: 'quality managers', action: 'pause orders from suppliers whose return rate rises' }",
);

export const productSchema = strict({
  name: snakeName('product name', 'returns_by_supplier'),
  version: z.custom<SemVer>((value) => typeof value === 'string' && SEMVER.test(value), {
    error: (issue) =>
      issue.input === undefined
        ? say(`'version' is missing`, "add version: '1.0.0'")
        : say(`${shown(issue.input)} is not a semantic version`, "write major.minor.patch, e.g. '1.2.0'; bump major when the contract breaks"),
  }),
  owner: strict(
    {
      team: text("the owning team, e.g. 'merchandising-analytics'"),
      email: z.email({
        error: (issue) =>
          issue.input === undefined
            ? say(`'email' is missing`, "add the team's email, e.g. email: 'merch-analytics@example.com'")
            : say(`${shown(issue.input)} is not an email address`, "write the owning team's address, e.g. 'merch-analytics@example.com'"),
      }) as unknown as z.ZodType<`${string}@${string}`>,
    },
    "{ team: 'merchandising-analytics', email: 'merch-analytics@example.com' }",
  ),
  domain: text("the business domain, e.g. 'merchandising'"),
  description: text('a sentence saying what the product is for'),
  audience: z.enum(['internal', 'external'], {
    error: (issue) =>
      issue.input === undefined
        ? say(`'audience' is missing`, "add audience: 'internal' (people in the company) or 'external' (partners, customers)")
        : say(`${shown(issue.input)} is not an audience`, "use 'internal' (people in the company) or 'external' (partners, customers)"),
  }),
  users: z
    .array(user, expects("[{ who: 'quality managers', action: 'pause orders from suppliers whose return rate rises' }]"))
    .min(1, { error: say('no users are named', "say who uses the product and what they do with it: users: [{ who: 'quality managers', action: 'pause orders ...' }]") }),
  source,
  contract,
  metrics,
  checks: z.array(checkSchema, expects('a list of checks, e.g. [check.notNull(\'id\')]')).default([]),
  slo: slo.optional(),
  onDefects: z
    .enum(['block', 'quarantine'], {
      error: (issue) =>
        say(`${shown(issue.input)} is not a way to handle defects`, "use 'block' (failing rows stop the run) or 'quarantine' (they are set aside, the rest is served)"),
    })
    .default('block'),
  serve: z
    .array(targetSchema, expects('a list of targets, e.g. [dashboard({...})]'))
    .min(1, { error: say('the product serves nothing', TARGET_BUILDERS.replace('build targets with', 'add a target:')) }),
});
