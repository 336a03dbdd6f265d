/**
 * Five-field cron expressions: `minute hour day-of-month month day-of-week`, each field a `*`, a value, a range
 * `a-b`, a step `*\/n` or `a-b/n`, or a comma list of these; months and weekdays may be names (`jan`, `mon-fri`).
 * `@hourly`, `@daily`, `@weekly`, `@monthly` and `@yearly` are accepted too.
 */

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  },
  // 0 and 7 are both Sunday.
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** The values each field matches, after expanding ranges, steps, lists and names. */
export interface CronFields {
  minute: number[];
  hour: number[];
  dayOfMonth: number[];
  month: number[];
  /** 0 = Sunday … 6 = Saturday (7 is folded into 0). */
  dayOfWeek: number[];
}

export class CronError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronError';
  }
}

export const CRON_HELP =
  "write five fields 'minute hour day-of-month month day-of-week', e.g. '0 5 * * *' (05:00 daily) or '30 6 1 * *' (06:30 on the 1st of each month)";

/** Parses a cron expression; throws `CronError` naming the field that is wrong. */
export function parseCron(expression: string): CronFields {
  if (typeof expression !== 'string') throw new CronError('a cron expression must be a string');
  const trimmed = expression.trim();
  const text = trimmed.startsWith('@') ? MACROS[trimmed.toLowerCase()] : trimmed;
  if (text === undefined) {
    throw new CronError(`'${trimmed}' is not a known shorthand (use ${Object.keys(MACROS).join(', ')})`);
  }
  const parts = text.split(/\s+/).filter((part) => part.length > 0);
  if (parts.length !== 5) {
    throw new CronError(`a cron expression has 5 fields, '${trimmed}' has ${parts.length}`);
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = parts.map((part, index) => parseField(part, FIELDS[index]));
  return { minute, hour, dayOfMonth, month, dayOfWeek: [...new Set(dayOfWeek.map((day) => day % 7))].sort((a, b) => a - b) };
}

/** The problem with a cron expression, or undefined when it is valid. */
export function cronProblem(expression: string): string | undefined {
  try {
    parseCron(expression);
    return undefined;
  } catch (error) {
    return error instanceof CronError ? error.message : String(error);
  }
}

function parseField(text: string, spec: FieldSpec): number[] {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') throw new CronError(`the ${spec.name} field '${text}' has an empty list item`);
    const [rangeText, stepText, extra] = item.split('/');
    if (extra !== undefined) throw new CronError(`the ${spec.name} field item '${item}' has more than one '/'`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw new CronError(`the ${spec.name} field item '${item}' has step '${stepText}'; a step is a whole number from 1`);
      }
      step = Number(stepText);
    }
    let low: number;
    let high: number;
    if (rangeText === '*') {
      low = spec.min;
      high = spec.max;
    } else if (rangeText.includes('-')) {
      const [from, to, more] = rangeText.split('-');
      if (more !== undefined) throw new CronError(`the ${spec.name} field item '${item}' is not a range 'a-b'`);
      low = value(from, spec, item);
      high = value(to, spec, item);
      if (low > high) throw new CronError(`the ${spec.name} range '${rangeText}' runs backwards (${low} > ${high})`);
    } else {
      low = value(rangeText, spec, item);
      high = stepText === undefined ? low : spec.max;
    }
    for (let current = low; current <= high; current += step) values.add(current);
  }
  return [...values].sort((a, b) => a - b);
}

function value(text: string, spec: FieldSpec, item: string): number {
  const nameIndex = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  const number = nameIndex >= 0 ? nameIndex + (spec.min === 1 ? 1 : 0) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (Number.isNaN(number)) {
    const names = spec.names ? ` or a name (${spec.names.join(', ')})` : '';
    throw new CronError(`the ${spec.name} field item '${item}' has '${text}', which is not a number${names}`);
  }
  if (number < spec.min || number > spec.max) {
    throw new CronError(`the ${spec.name} value ${number} is outside ${spec.min}–${spec.max}`);
  }
  return number;
}
