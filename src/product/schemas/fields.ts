/** Schemas of the small values products and the config are made of: names, durations, schedules, secrets, sources. */
import { z } from 'zod';
import type { DurationText } from '../../time/duration.js';
import { DURATION_HELP, parseDuration } from '../../time/duration.js';
import { CRON_HELP, cronProblem } from '../schedule.js';
import { expects, say, shown, strict, variant } from '../issues.js';
import { isSnakeCase, MAX_NAME_LENGTH, SQL_NAME, toSnakeCase } from '../names.js';
import { ENV_VAR_NAME } from '../secret.js';
import { isTimeZone, timeZoneFix } from '../../time/timezone.js';

/** A non-empty string. */
export const text = (hint: string) =>
  z.string(expects(hint)).refine((value) => value.trim().length > 0, { error: say(`'{field}' is empty`, `write {field} as ${hint}`) });

/** A snake_case name (product, target, check, metric, dashboard object). */
export const snakeName = (what: string, example: string) =>
  z.string(expects(`a snake_case ${what} such as '${example}'`)).refine((value) => isSnakeCase(value), {
    error: (issue) =>
      say(
        `the ${what} ${shown(issue.input)} is not snake_case`,
        `rename it to '${toSnakeCase(String(issue.input))}': lower-case letters, digits and single underscores, starting with a letter, at most ${MAX_NAME_LENGTH} characters`,
      ),
  });

/** A contract column name as it appears in SQL. */
export const columnName = z.string(expects("a contract column name such as 'supplier_id'")).regex(SQL_NAME, {
  error: (issue) =>
    say(`${shown(issue.input)} is not a plain column name`, 'use letters, digits and underscores, starting with a letter or underscore'),
});

export const duration = z.custom<DurationText>((value) => typeof value === 'string' && parseDuration(value) !== undefined, {
  error: (issue) =>
    issue.input === undefined
      ? say(`'{field}' is missing`, `add {field}: ${DURATION_HELP}`)
      : say(`${shown(issue.input)} is not a duration`, `write ${DURATION_HELP}`),
});

export const timezone = z.string(expects("an IANA time zone such as 'Europe/Berlin'")).refine(isTimeZone, {
  error: (issue) => say(`${shown(issue.input)} is not a known time zone`, timeZoneFix(String(issue.input))),
});

export const schedule = strict(
  {
    cron: z.string(expects("a cron expression such as '0 5 * * *'")).superRefine((value, ctx) => {
      const problem = cronProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', input: value, message: say(`'${value}' is not a valid cron expression: ${problem}`, CRON_HELP) });
    }),
    timezone,
    paused: z
      .string(expects("why the schedule is paused, e.g. 'the partner portal is migrating until 2026-12-10'"))
      .refine((value) => value.trim().length > 0, { error: say('an empty reason', "say why the schedule is paused, e.g. paused: 'the partner portal is migrating'") })
      .optional(),
  },
  "{ cron: '0 5 * * *', timezone: 'Europe/Berlin' }",
);

export const secretRef = z.strictObject(
  {
    kind: z.literal('secret'),
    env: z.string().regex(ENV_VAR_NAME, {
      error: (issue) =>
        say(
          `${shown(issue.input)} is not an environment variable name`,
          "use upper-case letters, digits and underscores, e.g. secret('CRM_TOKEN')",
        ),
    }),
  },
  {
    error: (issue) =>
      issue.code === 'invalid_type' || issue.code === 'unrecognized_keys'
        ? say(
            issue.input === undefined ? `'{field}' is missing` : `'{field}' must be a secret('ENV_VAR') reference`,
            "write {field}: secret('NAME_OF_ENV_VAR') and set that variable where lastmile runs",
          )
        : undefined,
  },
);

export const tableRef = z.strictObject(
  {
    kind: z.literal('table'),
    schema: z.string().regex(SQL_NAME, { error: say(`the schema part of the table name is not a plain name`, "write table('schema.table'), e.g. table('marts.returns_weekly')") }),
    name: z.string().regex(SQL_NAME, { error: say(`the table part of the table name is not a plain name`, "write table('schema.table'), e.g. table('marts.returns_weekly')") }),
  },
  {
    error: (issue) =>
      issue.code === 'invalid_type'
        ? say(
            issue.input === undefined ? `'{field}' is missing` : `'{field}' is ${shown(issue.input)}, not a table('schema.table') reference`,
            "write table('schema.table'), e.g. table('marts.returns_weekly'); only table() references may be interpolated into sql`...`",
          )
        : undefined,
  },
);

const sqlSource = z
  .strictObject({ kind: z.literal('sql'), parts: z.array(z.string()), tables: z.array(tableRef) })
  .superRefine((value, ctx) => {
    if (value.parts.length !== value.tables.length + 1) {
      ctx.addIssue({ code: 'custom', message: say('the sql source is malformed', 'build it with the sql`...` tag') });
    } else if (value.parts.join('').trim() === '' && value.tables.length === 0) {
      ctx.addIssue({ code: 'custom', message: say('the sql source is empty', "write a query, e.g. sql`select * from ${table('marts.returns_weekly')}`") });
    }
  });

const SOURCE_HINT = "sql`select ... from ${table('marts.returns_weekly')}` or table('marts.returns_weekly')";

export const source = z.discriminatedUnion(
  'kind',
  [tableRef, sqlSource],
  variant(
    'a query or a table reference',
    'kind',
    `write {field}: ${SOURCE_HINT}; a query goes in the sql tag with table() placeholders, so schemas resolve per environment`,
  ),
);

export const classification = z.enum(['public', 'internal', 'pii'], {
  error: (issue) => say(`${shown(issue.input)} is not a classification`, "use 'public', 'internal' or 'pii'"),
});
