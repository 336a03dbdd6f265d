/** Schemas of checks: one strict object per check type, names and severities filled in. */
import { z } from 'zod';
import type { Check } from '../checks.js';
import { defaultCheckName } from '../checks.js';
import { expects, say, shown, strict, variant } from '../issues.js';
import { columnName, duration, snakeName, source, tableRef, text } from './fields.js';

const severity = z.enum(['block', 'warn'], {
  error: (issue) => say(`${shown(issue.input)} is not a severity`, "use 'block' (stop serving when the check fails) or 'warn'"),
});

const checkBase = {
  kind: z.literal('check'),
  name: snakeName('check name', 'returns_not_above_units').optional(),
  severity: severity.optional(),
};

const bound = z.union([z.number(), z.string()], {
  error: say(`'{field}' must be a number or an ISO date string`, "write e.g. 0, 100 or '2020-01-01'"),
});

export const atLeastOneBound = <T extends { min?: unknown; max?: unknown }>(value: T) => value.min !== undefined || value.max !== undefined;
export const boundsInOrder = <T extends { min?: unknown; max?: unknown }>(value: T) =>
  !(typeof value.min === 'number' && typeof value.max === 'number' && value.min > value.max);

export const BOUNDS_MISSING = say('the check has neither min nor max', 'give min, max or both');
export const BOUNDS_REVERSED = say('min is greater than max', 'swap min and max');

const regexPattern = z.string(expects("a regular expression such as '^SUP-[0-9]{3}$'")).superRefine((value, ctx) => {
  try {
    new RegExp(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: say(`${shown(value)} is not a valid regular expression (${(error as Error).message})`, 'fix the pattern') });
  }
});

const count = z.number(expects('a whole number')).int({ error: say(`'{field}' is not a whole number`, 'write a whole number') }).min(0, {
  error: say(`'{field}' is negative`, 'write 0 or more'),
});

const share = z.number(expects('a share such as 0.2 (±20%)')).positive({
  error: say(`'{field}' is not above 0`, 'write a share such as 0.2 for ±20%'),
});

const checkSchemas = [
  strict({ ...checkBase, type: z.literal('notNull'), columns: z.array(columnName).min(1) }),
  strict({ ...checkBase, type: z.literal('unique'), columns: z.array(columnName).min(1) }),
  strict({
    ...checkBase,
    type: z.literal('acceptedValues'),
    column: columnName,
    values: z
      .array(z.union([z.string(), z.number(), z.boolean()]))
      .min(1, { error: say('no accepted values are listed', "list them, e.g. check.acceptedValues('channel', ['web', 'app'])") }),
  }),
  strict({
    ...checkBase,
    type: z.literal('range'),
    column: columnName,
    min: bound.optional(),
    max: bound.optional(),
    exclusiveMin: z.boolean(expects('true or false')).optional(),
    exclusiveMax: z.boolean(expects('true or false')).optional(),
  })
    .refine(atLeastOneBound, { error: BOUNDS_MISSING })
    .refine(boundsInOrder, { error: BOUNDS_REVERSED }),
  strict({ ...checkBase, type: z.literal('pattern'), column: columnName, pattern: regexPattern }),
  strict({ ...checkBase, type: z.literal('rowCount'), min: count.optional(), max: count.optional(), maxChange: share.optional() })
    .refine((value) => atLeastOneBound(value) || value.maxChange !== undefined, {
      error: say('the check has neither min, max nor maxChange', 'give min, max, maxChange (e.g. 0.2 for ±20%) or several'),
    })
    .refine(boundsInOrder, { error: BOUNDS_REVERSED }),
  strict({ ...checkBase, type: z.literal('freshness'), column: columnName, maxAge: duration }),
  strict({ ...checkBase, type: z.literal('references'), column: columnName, to: strict({ table: tableRef, column: columnName }) }),
  strict({ ...checkBase, type: z.literal('rowPredicate'), expression: text("a SQL boolean expression such as 'returns <= units'") }),
  strict({ ...checkBase, type: z.literal('assertion'), query: source }),
] as const;

const CHECK_BUILDERS =
  'build checks with check.notNull(), unique(), acceptedValues(), range(), pattern(), rowCount(), freshness(), references(), rowPredicate() or assertion()';

/** A check as written (no defaults applied). */
export const checkSpec = z.discriminatedUnion('type', [...checkSchemas], variant('a check', 'type', CHECK_BUILDERS));

/** A check with its name and severity filled in. */
export const checkSchema = checkSpec.transform(
  (spec): Check => ({ ...spec, name: spec.name ?? defaultCheckName(spec), severity: spec.severity ?? 'block' }),
);
