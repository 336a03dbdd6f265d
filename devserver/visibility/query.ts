/**
 * Temporal visibility "List Filter" evaluation: resolves the AST from `query-parse.ts`
 * against system and custom search attributes, converts literal values to each
 * attribute's type, and compiles the result to a matcher plus a comparator.
 *
 * Semantics (following Temporal's List Filter docs, adapted to in-memory records):
 * - A record that lacks the attribute never matches a comparison, including `!=`,
 *   `NOT IN`, `NOT BETWEEN` and `NOT STARTS_WITH` (SQL NULL semantics); only
 *   `IS NULL` matches it. An empty KeywordList counts as missing.
 * - Keyword compares case-sensitively by UTF-16 code units; `BETWEEN` is inclusive.
 * - KeywordList: `=` means "contains", `!=` "does not contain", `IN` "contains any",
 *   `STARTS_WITH` "some element starts with". Range operators are not supported.
 * - Text: both sides are split into lower-cased words (runs of letters/digits) and
 *   `=` matches when any query word equals any stored word, so
 *   `Description = 'foobar'` matches "my-business-id-foobar" but `'foo'` does not.
 *   `!=` is its negation. No other operators, and Text cannot be used in ORDER BY.
 * - Bool supports only `=`, `!=`, `IN`. ExecutionStatus supports only `=`, `!=`, `IN`,
 *   with case-sensitive status names; ORDER BY uses the proto enum order.
 * - Int/Double literals may be numbers or numeric strings; Datetime literals must be
 *   RFC3339 strings (sub-millisecond digits are truncated, like the stored Dates).
 * - compare(): ORDER BY terms in order, records lacking the attribute last in either
 *   direction, then RunId ascending as a final tie-breaker so pages are stable.
 *   Without ORDER BY: StartTime descending, then RunId.
 */
import {
  at,
  ListFilterError,
  parseQuery,
  type AttrRef,
  type CompareOp,
  type Condition,
  type Literal,
} from './query-parse.js';

export { ListFilterError } from './query-parse.js';

export type SearchAttributeType = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export type ExecutionStatusName =
  | 'Running'
  | 'Completed'
  | 'Failed'
  | 'Canceled'
  | 'Terminated'
  | 'ContinuedAsNew'
  | 'TimedOut';

export interface VisibilityRecord {
  workflowId: string;
  runId: string;
  workflowType: string;
  status: ExecutionStatusName;
  startTime: Date;
  executionTime: Date;
  closeTime?: Date;
  taskQueue: string;
  /** custom search attributes, already decoded: string, number, boolean, Date (Datetime), string[] (KeywordList) */
  searchAttributes: Record<string, unknown>;
}

export interface ListFilter {
  matches(record: VisibilityRecord): boolean;
  compare(a: VisibilityRecord, b: VisibilityRecord): number;
}

/** In proto enum order (EXECUTION_STATUS_RUNNING = 1, ...). */
const STATUSES: readonly ExecutionStatusName[] = [
  'Running',
  'Completed',
  'Failed',
  'Canceled',
  'Terminated',
  'ContinuedAsNew',
  'TimedOut',
];

type Kind = SearchAttributeType | 'ExecutionStatus';
/** Normalized values: strings, numbers (Int, Double, Datetime as epoch ms, ExecutionStatus as enum index), booleans. */
type Scalar = string | number | boolean;
type Value = Scalar | string[];

interface Attr {
  name: string;
  kind: Kind;
  read(record: VisibilityRecord): Value | undefined;
}

const SYSTEM = new Map<string, { kind: Kind; get(r: VisibilityRecord): unknown }>([
  ['WorkflowId', { kind: 'Keyword', get: (r) => r.workflowId }],
  ['RunId', { kind: 'Keyword', get: (r) => r.runId }],
  ['WorkflowType', { kind: 'Keyword', get: (r) => r.workflowType }],
  ['ExecutionStatus', { kind: 'ExecutionStatus', get: (r) => r.status }],
  ['StartTime', { kind: 'Datetime', get: (r) => r.startTime }],
  ['ExecutionTime', { kind: 'Datetime', get: (r) => r.executionTime }],
  ['CloseTime', { kind: 'Datetime', get: (r) => r.closeTime }],
  ['TaskQueue', { kind: 'Keyword', get: (r) => r.taskQueue }],
]);

// ---------------------------------------------------------------------------
// Value handling

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Parses an RFC3339 timestamp to epoch milliseconds, or undefined if invalid. */
export function parseRfc3339(s: string): number | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const daysInMonth = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (daysInMonth === undefined || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  const offsetH = m[8] ? 0 : Number(m[10]);
  const offsetM = m[8] ? 0 : Number(m[11]);
  if (offsetH > 23 || offsetM > 59) return undefined;
  const millis = Number((m[7] ?? '').slice(0, 3).padEnd(3, '0'));
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, millis);
  const sign = m[9] === '-' ? -1 : 1;
  return d.getTime() - sign * (offsetH * 60 + offsetM) * 60_000;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Defensively normalizes a stored value; anything of the wrong shape counts as missing. */
function normalize(kind: Kind, raw: unknown): Value | undefined {
  switch (kind) {
    case 'Keyword':
    case 'Text':
      return typeof raw === 'string' ? raw : undefined;
    case 'ExecutionStatus': {
      const i = STATUSES.indexOf(raw as ExecutionStatusName);
      return i >= 0 ? i : undefined;
    }
    case 'Int':
    case 'Double': {
      const n = typeof raw === 'bigint' ? Number(raw) : raw;
      return typeof n === 'number' && !Number.isNaN(n) ? n : undefined;
    }
    case 'Bool':
      return typeof raw === 'boolean' ? raw : undefined;
    case 'Datetime': {
      const ms = raw instanceof Date ? raw.getTime() : typeof raw === 'string' ? parseRfc3339(raw) : undefined;
      return ms === undefined || Number.isNaN(ms) ? undefined : ms;
    }
    case 'KeywordList': {
      const list = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? (raw as unknown[]).filter((v): v is string => typeof v === 'string') : [];
      return list.length ? list : undefined;
    }
  }
}

function resolve(ref: AttrRef, custom: ReadonlyMap<string, SearchAttributeType>): Attr {
  const sys = SYSTEM.get(ref.name);
  if (sys) return { name: ref.name, kind: sys.kind, read: (r) => normalize(sys.kind, sys.get(r)) };
  const kind = custom.get(ref.name);
  if (kind === undefined) throw new ListFilterError(`unknown search attribute "${ref.name}" ${at(ref.pos)}`);
  return {
    name: ref.name,
    kind,
    read: (r) => {
      const sa: unknown = r.searchAttributes;
      if (typeof sa !== 'object' || sa === null || !Object.hasOwn(sa, ref.name)) return undefined;
      return normalize(kind, (sa as Record<string, unknown>)[ref.name]);
    },
  };
}

const NUMERIC = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** Converts a literal to the attribute's normalized type, or throws naming attribute and value. */
function convert(attr: Attr, lit: Literal): Scalar {
  const fail = (expected: string): never => {
    throw new ListFilterError(
      `invalid value ${lit.text} for ${attr.kind} search attribute "${attr.name}" ${at(lit.pos)}: expected ${expected}`,
    );
  };
  switch (attr.kind) {
    case 'Keyword':
    case 'Text':
    case 'KeywordList':
      return lit.kind === 'string' ? lit.value : fail('a quoted string');
    case 'ExecutionStatus': {
      const i = lit.kind === 'string' ? STATUSES.indexOf(lit.value as ExecutionStatusName) : -1;
      return i >= 0 ? i : fail(`one of ${STATUSES.join(', ')}`);
    }
    case 'Int':
    case 'Double': {
      const n = lit.kind === 'number' || (lit.kind === 'string' && NUMERIC.test(lit.value)) ? Number(lit.value) : NaN;
      if (!Number.isFinite(n)) return fail('a number');
      return attr.kind === 'Int' && !Number.isInteger(n) ? fail('an integer') : n;
    }
    case 'Bool': {
      const v = lit.kind === 'string' ? lit.value.toLowerCase() : lit.kind === 'bool' ? lit.value : '';
      return v === 'true' ? true : v === 'false' ? false : fail('true or false');
    }
    case 'Datetime': {
      const ms = lit.kind === 'string' ? parseRfc3339(lit.value) : undefined;
      return ms ?? fail('an RFC3339 timestamp such as "2024-01-02T15:04:05Z"');
    }
  }
}

function words(s: string): string[] {
  return s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function order(a: Scalar, b: Scalar): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------
// Compilation

type Predicate = (record: VisibilityRecord) => boolean;

const RANGE_KINDS: readonly Kind[] = ['Keyword', 'Int', 'Double', 'Datetime'];
const SUPPORTED: Record<string, readonly Kind[]> = {
  '=': ['Keyword', 'Text', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList', 'ExecutionStatus'],
  '!=': ['Keyword', 'Text', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList', 'ExecutionStatus'],
  IN: ['Keyword', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList', 'ExecutionStatus'],
  BETWEEN: RANGE_KINDS,
  STARTS_WITH: ['Keyword', 'KeywordList'],
};

function checkOperator(attr: Attr, op: string, pos: number): void {
  const kinds = SUPPORTED[op] ?? RANGE_KINDS;
  if (!kinds.includes(attr.kind)) {
    throw new ListFilterError(
      `operator ${op} is not supported for ${attr.kind} search attribute "${attr.name}" ${at(pos)}`,
    );
  }
}

/** Equality as defined per kind (contains for KeywordList, word match for Text). */
function equalsFn(attr: Attr, lit: Literal): (v: Value) => boolean {
  const want = convert(attr, lit);
  if (attr.kind === 'KeywordList') return (v) => Array.isArray(v) && v.includes(want as string);
  if (attr.kind === 'Text') {
    const queryWords = words(want as string);
    return (v) => {
      const stored = new Set(words(String(v)));
      return queryWords.some((w) => stored.has(w));
    };
  }
  return (v) => v === want;
}

/** Builds a predicate that is false when the attribute is missing, else `test(value)`. */
function present(attr: Attr, test: (v: Value) => boolean): Predicate {
  return (r) => {
    const v = attr.read(r);
    return v !== undefined && test(v);
  };
}

function compileCompare(attr: Attr, op: CompareOp, lit: Literal): Predicate {
  if (op === '=' || op === '!=') {
    const eq = equalsFn(attr, lit);
    return op === '=' ? present(attr, eq) : present(attr, (v) => !eq(v));
  }
  const want = convert(attr, lit);
  const accept: Record<typeof op, (c: number) => boolean> = {
    '<': (c) => c < 0,
    '<=': (c) => c <= 0,
    '>': (c) => c > 0,
    '>=': (c) => c >= 0,
  };
  return present(attr, (v) => accept[op](order(v as Scalar, want)));
}

function compile(cond: Condition, custom: ReadonlyMap<string, SearchAttributeType>): Predicate {
  if (cond.kind === 'and' || cond.kind === 'or') {
    const parts = cond.items.map((c) => compile(c, custom));
    return cond.kind === 'and' ? (r) => parts.every((p) => p(r)) : (r) => parts.some((p) => p(r));
  }
  const attr = resolve(cond.attr, custom);
  const negate = (test: (v: Value) => boolean, negated: boolean) => (negated ? (v: Value) => !test(v) : test);
  switch (cond.kind) {
    case 'compare':
      checkOperator(attr, cond.op, cond.value.pos);
      return compileCompare(attr, cond.op, cond.value);
    case 'in': {
      checkOperator(attr, 'IN', cond.values[0].pos);
      const tests = cond.values.map((lit) => equalsFn(attr, lit));
      return present(attr, negate((v) => tests.some((t) => t(v)), cond.negated));
    }
    case 'between': {
      checkOperator(attr, 'BETWEEN', cond.low.pos);
      const low = convert(attr, cond.low);
      const high = convert(attr, cond.high);
      const inside = (v: Value) => order(v as Scalar, low) >= 0 && order(v as Scalar, high) <= 0;
      return present(attr, negate(inside, cond.negated));
    }
    case 'startsWith': {
      checkOperator(attr, 'STARTS_WITH', cond.value.pos);
      const prefix = convert(attr, cond.value) as string;
      const starts = (v: Value) => (Array.isArray(v) ? v : [String(v)]).some((s) => s.startsWith(prefix));
      return present(attr, negate(starts, cond.negated));
    }
    case 'isNull': {
      return (r) => (attr.read(r) === undefined) !== cond.negated;
    }
  }
}

interface SortKey {
  attr: Attr;
  descending: boolean;
}

function compareBy(keys: SortKey[]): (a: VisibilityRecord, b: VisibilityRecord) => number {
  return (a, b) => {
    for (const { attr, descending } of keys) {
      const va = attr.read(a);
      const vb = attr.read(b);
      if (va === undefined || vb === undefined) {
        if (va !== vb) return va === undefined ? 1 : -1; // missing sorts last either way
        continue;
      }
      const c = order(va as Scalar, vb as Scalar);
      if (c !== 0) return descending ? -c : c;
    }
    return 0;
  };
}

/**
 * Parses and compiles a List Filter. `customAttributes` maps registered custom
 * search attribute names to their types. Throws ListFilterError (and nothing else)
 * for any malformed, ill-typed or unsupported query.
 */
export function parseListFilter(query: string, customAttributes: ReadonlyMap<string, SearchAttributeType>): ListFilter {
  if (typeof query !== 'string') throw new ListFilterError('list filter must be a string');
  const parsed = parseQuery(query);
  const matches: Predicate = parsed.where ? compile(parsed.where, customAttributes) : () => true;
  const keys: SortKey[] = parsed.orderBy.map(({ attr: ref, descending }) => {
    const attr = resolve(ref, customAttributes);
    if (attr.kind === 'Text' || attr.kind === 'KeywordList') {
      throw new ListFilterError(`cannot ORDER BY ${attr.kind} search attribute "${attr.name}" ${at(ref.pos)}`);
    }
    return { attr, descending };
  });
  if (!keys.length) keys.push({ attr: resolve({ name: 'StartTime', pos: 0 }, customAttributes), descending: true });
  keys.push({ attr: resolve({ name: 'RunId', pos: 0 }, customAttributes), descending: false });
  return { matches, compare: compareBy(keys) };
}
