import { describe, expect, it } from 'vitest';
import {
  ListFilterError,
  parseListFilter,
  type SearchAttributeType,
  type VisibilityRecord,
} from '../../devserver/visibility/query.js';

const CUSTOM = new Map<string, SearchAttributeType>([
  ['CustomKeyword', 'Keyword'],
  ['CustomText', 'Text'],
  ['CustomInt', 'Int'],
  ['CustomDouble', 'Double'],
  ['CustomBool', 'Bool'],
  ['CustomDatetime', 'Datetime'],
  ['CustomKeywordList', 'KeywordList'],
  ['Order', 'Keyword'],
  ['Desc', 'Int'],
]);

function rec(id: string, over: Partial<VisibilityRecord> = {}): VisibilityRecord {
  return {
    workflowId: id,
    runId: `run-${id}`,
    workflowType: 'OrderWorkflow',
    status: 'Running',
    startTime: new Date('2024-01-01T00:00:00Z'),
    executionTime: new Date('2024-01-01T00:00:00Z'),
    taskQueue: 'main',
    searchAttributes: {},
    ...over,
  };
}

const RECORDS: VisibilityRecord[] = [
  rec('order-1', {
    startTime: new Date('2024-01-01T10:00:00Z'),
    searchAttributes: {
      CustomKeyword: 'alpha',
      CustomText: 'my-business-id-foobar',
      CustomInt: 5,
      CustomDouble: 1.5,
      CustomBool: true,
      CustomDatetime: new Date('2024-03-01T00:00:00Z'),
      CustomKeywordList: ['red', 'green'],
    },
  }),
  rec('order-2', {
    status: 'Completed',
    startTime: new Date('2024-01-02T10:00:00Z'),
    closeTime: new Date('2024-01-02T11:00:00Z'),
    workflowType: 'ShipWorkflow',
    searchAttributes: {
      CustomKeyword: 'beta',
      CustomText: 'Quick brown fox',
      CustomInt: 10,
      CustomDouble: 2.25,
      CustomBool: false,
      CustomDatetime: new Date('2024-04-01T00:00:00Z'),
      CustomKeywordList: ['blue'],
    },
  }),
  rec('invoice-3', {
    status: 'Failed',
    startTime: new Date('2024-01-03T10:00:00Z'),
    closeTime: new Date('2024-01-03T12:00:00Z'),
    taskQueue: 'other',
    searchAttributes: { CustomInt: -3, Order: 'o', Desc: 7 },
  }),
  rec("it's-4", { startTime: new Date('2024-01-03T10:00:00Z'), searchAttributes: {} }),
];

/** Ids of the records matched by `query`, in record order. */
function ids(query: string, records = RECORDS): string[] {
  const f = parseListFilter(query, CUSTOM);
  return records.filter((r) => f.matches(r)).map((r) => r.workflowId);
}

/** Ids sorted by the filter's comparator. */
function sorted(query: string, records = RECORDS): string[] {
  const f = parseListFilter(query, CUSTOM);
  return [...records].sort((a, b) => f.compare(a, b)).map((r) => r.workflowId);
}

function errorOf(query: string): ListFilterError {
  try {
    parseListFilter(query, CUSTOM);
  } catch (e) {
    expect(e).toBeInstanceOf(ListFilterError);
    return e as ListFilterError;
  }
  throw new Error(`expected ${JSON.stringify(query)} to be rejected`);
}

const ALL = ['order-1', 'order-2', 'invoice-3', "it's-4"];

describe('empty and basic queries', () => {
  it('empty or blank query matches everything', () => {
    expect(ids('')).toEqual(ALL);
    expect(ids('   \n\t')).toEqual(ALL);
  });

  it('= and != on Keyword system attributes', () => {
    expect(ids("WorkflowId = 'order-1'")).toEqual(['order-1']);
    expect(ids('WorkflowId = "order-2"')).toEqual(['order-2']);
    expect(ids("WorkflowId != 'order-1'")).toEqual(['order-2', 'invoice-3', "it's-4"]);
    expect(ids("WorkflowId <> 'order-1'")).toEqual(['order-2', 'invoice-3', "it's-4"]);
    expect(ids("RunId = 'run-order-2'")).toEqual(['order-2']);
    expect(ids("WorkflowType = 'ShipWorkflow'")).toEqual(['order-2']);
    expect(ids("TaskQueue = 'other'")).toEqual(['invoice-3']);
  });

  it('Keyword comparison is case-sensitive', () => {
    expect(ids("WorkflowId = 'ORDER-1'")).toEqual([]);
  });

  it('keywords are case-insensitive, attribute names are case-sensitive', () => {
    expect(ids("WorkflowId = 'order-1' oR WorkflowId = 'a' aNd TaskQueue = 'main'")).toEqual(['order-1']);
    expect(errorOf("workflowid = 'x'").message).toContain('unknown search attribute "workflowid"');
  });

  it('backquoted attribute names', () => {
    expect(ids("`WorkflowId` = 'order-1'")).toEqual(['order-1']);
    expect(ids("`Order` = 'o'")).toEqual(['invoice-3']);
    expect(ids("Order = 'o' ORDER BY Order")).toEqual(['invoice-3']);
    expect(ids('Desc = 7')).toEqual(['invoice-3']);
  });

  it('string escapes: doubled quote and backslash', () => {
    expect(ids("WorkflowId = 'it''s-4'")).toEqual(["it's-4"]);
    expect(ids("WorkflowId = 'it\\'s-4'")).toEqual(["it's-4"]);
    expect(ids('WorkflowId = "it\'s-4"')).toEqual(["it's-4"]);
    expect(ids('WorkflowId = "say ""hi"""', [rec('say "hi"')])).toEqual(['say "hi"']);
  });
});

describe('operators', () => {
  it('< <= > >= on Keyword, Int, Double, Datetime', () => {
    expect(ids("WorkflowId < 'order-2'")).toEqual(['order-1', 'invoice-3', "it's-4"]);
    expect(ids("WorkflowId >= 'order-1'")).toEqual(['order-1', 'order-2']);
    expect(ids('CustomInt > 5')).toEqual(['order-2']);
    expect(ids('CustomInt >= 5')).toEqual(['order-1', 'order-2']);
    expect(ids('CustomInt < 0')).toEqual(['invoice-3']);
    expect(ids('CustomInt <= -3')).toEqual(['invoice-3']);
    expect(ids('CustomDouble > 2')).toEqual(['order-2']);
    expect(ids('CustomDouble <= 1.5')).toEqual(['order-1']);
    expect(ids("StartTime > '2024-01-02T00:00:00Z'")).toEqual(['order-2', 'invoice-3', "it's-4"]);
    expect(ids("StartTime < '2024-01-02T10:00:00Z'")).toEqual(['order-1']);
    expect(ids("StartTime <= '2024-01-02T10:00:00Z'")).toEqual(['order-1', 'order-2']);
  });

  it('IN and NOT IN', () => {
    expect(ids("WorkflowId IN ('order-1', 'invoice-3')")).toEqual(['order-1', 'invoice-3']);
    expect(ids("WorkflowId not in ('order-1', 'invoice-3')")).toEqual(['order-2', "it's-4"]);
    expect(ids("ExecutionStatus IN ('Completed', 'Failed')")).toEqual(['order-2', 'invoice-3']);
    expect(ids('CustomInt IN (5, -3)')).toEqual(['order-1', 'invoice-3']);
    expect(ids('CustomInt NOT IN (5)')).toEqual(['order-2', 'invoice-3']);
  });

  it('BETWEEN and NOT BETWEEN are inclusive', () => {
    expect(ids('CustomInt BETWEEN 5 AND 10')).toEqual(['order-1', 'order-2']);
    expect(ids('CustomInt NOT BETWEEN 5 AND 10')).toEqual(['invoice-3']);
    expect(ids("WorkflowId BETWEEN 'order-' AND 'order-~'")).toEqual(['order-1', 'order-2']);
    expect(ids("StartTime BETWEEN '2024-01-01T10:00:00Z' AND '2024-01-02T10:00:00Z'")).toEqual(['order-1', 'order-2']);
    expect(ids('CustomDouble between 1.5 and 2')).toEqual(['order-1']);
  });

  it('STARTS_WITH and NOT STARTS_WITH', () => {
    expect(ids("WorkflowId STARTS_WITH 'order-'")).toEqual(['order-1', 'order-2']);
    expect(ids("WorkflowId starts_with 'inv'")).toEqual(['invoice-3']);
    expect(ids("WorkflowId NOT STARTS_WITH 'order-'")).toEqual(['invoice-3', "it's-4"]);
    expect(ids("CustomKeywordList STARTS_WITH 'gr'")).toEqual(['order-1']);
  });

  it('IS NULL and IS NOT NULL', () => {
    expect(ids('CloseTime IS NULL')).toEqual(['order-1', "it's-4"]);
    expect(ids('CloseTime is not null')).toEqual(['order-2', 'invoice-3']);
    expect(ids('CustomKeyword IS NULL')).toEqual(['invoice-3', "it's-4"]);
    expect(ids('CustomKeywordList IS NOT NULL')).toEqual(['order-1', 'order-2']);
  });

  it('a missing attribute never matches a comparison, even negated ones', () => {
    expect(ids("CustomKeyword != 'alpha'")).toEqual(['order-2']);
    expect(ids("CustomKeyword NOT IN ('alpha')")).toEqual(['order-2']);
    expect(ids("CustomKeyword NOT BETWEEN 'a' AND 'b'")).toEqual(['order-2']);
    expect(ids("CustomKeyword NOT STARTS_WITH 'x'")).toEqual(['order-1', 'order-2']);
    expect(ids("CloseTime < '2100-01-01T00:00:00Z'")).toEqual(['order-2', 'invoice-3']);
  });

  it('a stored value of the wrong shape counts as missing', () => {
    const odd = [rec('odd', { searchAttributes: { CustomInt: 'seven', CustomKeywordList: [] } })];
    expect(ids('CustomInt != 1', odd)).toEqual([]);
    expect(ids('CustomInt IS NULL', odd)).toEqual(['odd']);
    expect(ids('CustomKeywordList IS NULL', odd)).toEqual(['odd']);
  });
});

describe('precedence and parentheses', () => {
  it('AND binds tighter than OR', () => {
    // a OR (b AND c)
    expect(ids("WorkflowId = 'order-1' OR WorkflowId = 'order-2' AND ExecutionStatus = 'Failed'")).toEqual(['order-1']);
    // (a AND b) OR c
    expect(ids("ExecutionStatus = 'Failed' AND WorkflowId = 'order-2' OR WorkflowId = 'order-1'")).toEqual(['order-1']);
  });

  it('parentheses override precedence', () => {
    expect(ids("(WorkflowId = 'order-1' OR WorkflowId = 'order-2') AND ExecutionStatus = 'Completed'")).toEqual([
      'order-2',
    ]);
    expect(ids("((WorkflowId = 'order-1'))")).toEqual(['order-1']);
    expect(ids("TaskQueue = 'main' AND (CustomInt > 6 OR CustomBool = true)")).toEqual(['order-1', 'order-2']);
  });

  it('the documented example filter parses and evaluates', () => {
    const q =
      'WorkflowType = "OrderWorkflow" and ExecutionStatus != "Running" and ' +
      '(StartTime > "2021-06-07T16:46:34.236-08:00" or CloseTime > "2021-06-07T16:46:34-08:00") order by StartTime desc';
    expect(ids(q)).toEqual(['invoice-3']);
  });
});

describe('types', () => {
  it('Int accepts numeric strings but rejects fractions and words', () => {
    expect(ids("CustomInt = '10'")).toEqual(['order-2']);
    expect(ids('CustomInt = 10.0')).toEqual(['order-2']);
    expect(errorOf('CustomInt = 1.5').message).toMatch(/invalid value 1\.5 for Int search attribute "CustomInt".*integer/);
    expect(errorOf('CustomInt = "abc"').message).toMatch(/invalid value "abc" for Int search attribute "CustomInt"/);
    expect(errorOf('CustomInt = true').message).toContain('"CustomInt"');
  });

  it('Double compares numerically', () => {
    expect(ids('CustomDouble = 2.25')).toEqual(['order-2']);
    expect(ids('CustomDouble > 1e0')).toEqual(['order-1', 'order-2']);
    expect(errorOf("CustomDouble = 'x'").message).toMatch(/Double search attribute "CustomDouble"/);
  });

  it('Bool supports only = / != / IN', () => {
    expect(ids('CustomBool = true')).toEqual(['order-1']);
    expect(ids('CustomBool = FALSE')).toEqual(['order-2']);
    expect(ids("CustomBool != 'true'")).toEqual(['order-2']);
    expect(ids('CustomBool IN (true, false)')).toEqual(['order-1', 'order-2']);
    expect(errorOf('CustomBool > false').message).toMatch(/operator > is not supported for Bool search attribute "CustomBool"/);
    expect(errorOf('CustomBool BETWEEN false AND true').message).toMatch(/BETWEEN is not supported/);
    expect(errorOf('CustomBool = 1').message).toMatch(/invalid value 1 for Bool.*true or false/);
  });

  it('Datetime requires RFC3339 strings and honours offsets', () => {
    expect(ids("CustomDatetime = '2024-03-01T00:00:00Z'")).toEqual(['order-1']);
    expect(ids("CustomDatetime = '2024-02-29T19:00:00-05:00'")).toEqual(['order-1']);
    expect(ids("CustomDatetime > '2024-03-01T00:00:00.000000001Z'")).toEqual(['order-2']);
    expect(ids("CloseTime = '2024-01-02T11:00:00.000Z'")).toEqual(['order-2']);
    expect(errorOf("StartTime > 'yesterday'").message).toMatch(/invalid value 'yesterday' for Datetime search attribute "StartTime".*RFC3339/);
    expect(errorOf("StartTime > '2024-02-30T00:00:00Z'").message).toContain('"StartTime"');
    expect(errorOf("StartTime > '2024-01-01'").message).toContain('RFC3339');
    expect(errorOf('StartTime > 1700000000').message).toContain('RFC3339');
  });

  it('KeywordList = means contains', () => {
    expect(ids("CustomKeywordList = 'green'")).toEqual(['order-1']);
    expect(ids("CustomKeywordList != 'green'")).toEqual(['order-2']);
    expect(ids("CustomKeywordList IN ('blue', 'red')")).toEqual(['order-1', 'order-2']);
    expect(ids("CustomKeywordList NOT IN ('blue')")).toEqual(['order-1']);
    expect(errorOf("CustomKeywordList > 'a'").message).toMatch(/operator > is not supported for KeywordList/);
  });

  it('Text = matches whole words, case-insensitively', () => {
    expect(ids("CustomText = 'foobar'")).toEqual(['order-1']);
    expect(ids("CustomText = 'FOX'")).toEqual(['order-2']);
    expect(ids("CustomText = 'foo'")).toEqual([]);
    expect(ids("CustomText = 'slow fox'")).toEqual(['order-2']); // any word matches
    expect(ids("CustomText != 'fox'")).toEqual(['order-1']);
    expect(errorOf("CustomText STARTS_WITH 'f'").message).toMatch(/STARTS_WITH is not supported for Text/);
    expect(errorOf("CustomText IN ('a')").message).toMatch(/IN is not supported for Text/);
  });

  it('ExecutionStatus values are case-sensitive names', () => {
    expect(ids("ExecutionStatus = 'Running'")).toEqual(['order-1', "it's-4"]);
    expect(ids("ExecutionStatus != 'Running'")).toEqual(['order-2', 'invoice-3']);
    const e = errorOf("ExecutionStatus = 'running'");
    expect(e.message).toMatch(/invalid value 'running' for ExecutionStatus search attribute "ExecutionStatus"/);
    expect(e.message).toContain('Running, Completed');
    expect(errorOf('ExecutionStatus = 1').message).toContain('ExecutionStatus');
    expect(errorOf("ExecutionStatus > 'Running'").message).toMatch(/operator > is not supported/);
  });

  it('Keyword requires a quoted string', () => {
    expect(errorOf('WorkflowId = 123').message).toMatch(/invalid value 123 for Keyword search attribute "WorkflowId"/);
  });
});

describe('ORDER BY and compare()', () => {
  it('default order is StartTime descending, then RunId', () => {
    // invoice-3 and it's-4 share a StartTime; run-invoice-3 < run-it's-4
    expect(sorted('')).toEqual(['invoice-3', "it's-4", 'order-2', 'order-1']);
    expect(sorted("WorkflowId != 'x'")).toEqual(['invoice-3', "it's-4", 'order-2', 'order-1']);
  });

  it('ASC / DESC and multiple terms', () => {
    expect(sorted('ORDER BY StartTime')).toEqual(['order-1', 'order-2', 'invoice-3', "it's-4"]);
    expect(sorted('order by StartTime asc')).toEqual(['order-1', 'order-2', 'invoice-3', "it's-4"]);
    expect(sorted('ORDER BY TaskQueue DESC, WorkflowId ASC')).toEqual(['invoice-3', "it's-4", 'order-1', 'order-2']);
    expect(sorted('ORDER BY WorkflowType, StartTime DESC')).toEqual(['invoice-3', "it's-4", 'order-1', 'order-2']);
  });

  it('records missing the attribute sort last in either direction', () => {
    expect(sorted('ORDER BY CustomInt ASC')).toEqual(['invoice-3', 'order-1', 'order-2', "it's-4"]);
    expect(sorted('ORDER BY CustomInt DESC')).toEqual(['order-2', 'order-1', 'invoice-3', "it's-4"]);
    expect(sorted('ORDER BY CloseTime DESC')).toEqual(['invoice-3', 'order-2', "it's-4", 'order-1']);
  });

  it('ORDER BY works with a filter and on Bool / ExecutionStatus', () => {
    expect(sorted("TaskQueue = 'main' ORDER BY CustomDouble DESC")).toEqual(['order-2', 'order-1', 'invoice-3', "it's-4"]);
    expect(sorted('ORDER BY CustomBool')).toEqual(['order-2', 'order-1', 'invoice-3', "it's-4"]);
    // enum order: Running < Completed < Failed
    expect(sorted('ORDER BY ExecutionStatus DESC')).toEqual(['invoice-3', 'order-2', "it's-4", 'order-1']);
  });

  it('Text and KeywordList cannot be ordered by', () => {
    expect(errorOf('ORDER BY CustomText').message).toMatch(/cannot ORDER BY Text search attribute "CustomText"/);
    expect(errorOf('ORDER BY CustomKeywordList').message).toMatch(/cannot ORDER BY KeywordList/);
  });

  it('compare() is antisymmetric and zero only for the same run', () => {
    const f = parseListFilter('ORDER BY TaskQueue', CUSTOM);
    for (const a of RECORDS) {
      for (const b of RECORDS) {
        const c = f.compare(a, b);
        expect(Math.sign(c) + Math.sign(f.compare(b, a))).toBe(0);
        expect(c === 0).toBe(a === b);
      }
    }
  });
});

describe('errors', () => {
  const cases: [string, RegExp][] = [
    ["Foo = 'x'", /unknown search attribute "Foo" at position 1/],
    ["WorkflowId = 'a' AND Bar > 3", /unknown search attribute "Bar" at position 22/],
    ['ORDER BY Nope', /unknown search attribute "Nope"/],
    ['WorkflowId = ', /expected a value after "=" at position 14, found end of query/],
    ['WorkflowId = AND', /expected a value after "=" at position 14, found "AND"/],
    ['WorkflowId', /expected an operator after "WorkflowId" at position 11/],
    ["WorkflowId == 'a'", /expected a value after "=" at position 13, found "="/],
    ["WorkflowId LIKE 'a%'", /expected an operator after "WorkflowId" at position 12, found "LIKE"/],
    ["WorkflowId NOT 'a'", /expected IN, BETWEEN or STARTS_WITH after "NOT"/],
    ["WorkflowId = 'abc", /unterminated string starting at position 14/],
    ['`WorkflowId = 1', /unterminated backquoted name/],
    ['`` = 1', /empty backquoted name/],
    ["WorkflowId = 'a' #", /unexpected character "#" at position 18/],
    ["WorkflowId = 'a' WorkflowId = 'b'", /expected AND, OR or ORDER BY at position 18, found "WorkflowId"/],
    ["(WorkflowId = 'a'", /expected "\)" to close "\(" at position 1; found end of query/],
    ["WorkflowId = 'a')", /expected AND, OR or ORDER BY at position 17, found "\)"/],
    ['()', /expected a search attribute name at position 2, found "\)"/],
    ["AND WorkflowId = 'a'", /expected a search attribute name at position 1, found "AND"/],
    ["WorkflowId = 'a' AND", /expected a search attribute name at position 21, found end of query/],
    ["WorkflowId = 'a' OR OR", /expected a search attribute name/],
    ["WorkflowId IN 'a'", /expected "\(" after IN/],
    ['WorkflowId IN ()', /expected a value after "\(" at position 16, found "\)"/],
    ["WorkflowId IN ('a' 'b')", /expected "\)" after the IN list/],
    ["WorkflowId BETWEEN 'a' 'b'", /expected AND after "BETWEEN 'a'"/],
    ["WorkflowId BETWEEN 'a' AND", /expected a value after "AND"/],
    ['CloseTime IS', /expected NULL after "IS"/],
    ['CloseTime IS NOT 5', /expected NULL after "IS NOT" at position 18, found "5"/],
    ['ORDER BY', /expected a search attribute name after ORDER BY/],
    ['ORDER BY StartTime DESC StartTime', /expected "," or end of query/],
    ['ORDER StartTime', /expected a search attribute name|expected an operator/],
  ];
  for (const [query, pattern] of cases) {
    it(`rejects ${JSON.stringify(query)}`, () => {
      expect(errorOf(query).message).toMatch(pattern);
    });
  }

  it('limits parenthesis nesting instead of overflowing the stack', () => {
    const deep = '('.repeat(10_000) + "WorkflowId = 'a'" + ')'.repeat(10_000);
    expect(errorOf(deep).message).toMatch(/nested more than \d+ deep/);
    const ok = '('.repeat(30) + "WorkflowId = 'order-1'" + ')'.repeat(30);
    expect(ids(ok)).toEqual(['order-1']);
  });

  it('handles very long OR chains without recursion problems', () => {
    const q = Array.from({ length: 20_000 }, (_, i) => `WorkflowId = 'w${i}'`).join(' OR ');
    expect(ids(q, [rec('w19999'), rec('nope')])).toEqual(['w19999']);
  });

  it('ListFilterError is an Error with a useful name', () => {
    const e = errorOf('???');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ListFilterError');
  });
});

describe('fuzz: malformed input only ever raises ListFilterError', () => {
  // Deterministic PRNG so failures are reproducible.
  function prng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const FRAGMENTS = [
    'WorkflowId', 'StartTime', 'CloseTime', 'ExecutionStatus', 'CustomInt', 'CustomText', 'CustomBool',
    'CustomKeywordList', 'CustomDatetime', 'CustomDouble', 'Unknown', '`Order`', '`', 'AND', 'OR', 'NOT', 'IN',
    'BETWEEN', 'STARTS_WITH', 'IS', 'NULL', 'ORDER', 'BY', 'ASC', 'DESC', 'true', 'false', '=', '!=', '<>', '<',
    '<=', '>', '>=', '(', ')', ',', "'", '"', '\\', "'Running'", "'2024-01-01T00:00:00Z'", "'x'", '"y"', '5',
    '-1.5', '1e400', '.', '-', '__proto__', 'constructor', 'toString', '\u0000', '\u{1F600}', ' ', ' ', ' ',
  ];
  const rand = prng(0xc0ffee);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

  function garbage(): string {
    const n = Math.floor(rand() * 14);
    let s = '';
    for (let i = 0; i < n; i++) {
      s += rand() < 0.15 ? String.fromCharCode(Math.floor(rand() * 0x250)) : pick(FRAGMENTS);
      if (rand() < 0.6) s += ' ';
    }
    return s;
  }

  it('5000 random queries either compile (and evaluate) or throw ListFilterError', () => {
    const weird: VisibilityRecord[] = [
      ...RECORDS,
      rec('weird', {
        closeTime: new Date(NaN),
        searchAttributes: Object.assign(Object.create(null) as Record<string, unknown>, {
          CustomInt: 'NaN', CustomText: 42, CustomKeywordList: [1, null, 'a'], CustomDatetime: 'nope', CustomBool: 'yes',
        }),
      }),
    ];
    let compiled = 0;
    for (let i = 0; i < 5000; i++) {
      const q = garbage();
      let f;
      try {
        f = parseListFilter(q, CUSTOM);
      } catch (e) {
        if (!(e instanceof ListFilterError)) throw new Error(`non-ListFilterError for ${JSON.stringify(q)}: ${String(e)}`);
        continue;
      }
      compiled++;
      for (const r of weird) {
        expect(typeof f.matches(r)).toBe('boolean');
        expect(Number.isFinite(f.compare(r, weird[0]))).toBe(true);
      }
    }
    expect(compiled).toBeGreaterThan(0);
  });

  it('random mutations of valid queries only raise ListFilterError', () => {
    const seeds = [
      "WorkflowId = 'order-1' AND (CustomInt BETWEEN 1 AND 5 OR CustomText = 'fox') ORDER BY StartTime DESC",
      "ExecutionStatus IN ('Running', 'Failed') AND CloseTime IS NOT NULL",
      "CustomKeywordList NOT IN ('a', \"b\") OR WorkflowId STARTS_WITH 'x'",
    ];
    for (let i = 0; i < 3000; i++) {
      const base = pick(seeds);
      const cut = Math.floor(rand() * base.length);
      const q = rand() < 0.5 ? base.slice(0, cut) : base.slice(0, cut) + pick(FRAGMENTS) + base.slice(cut + 1);
      try {
        const f = parseListFilter(q, CUSTOM);
        RECORDS.forEach((r) => f.matches(r));
      } catch (e) {
        if (!(e instanceof ListFilterError)) throw new Error(`non-ListFilterError for ${JSON.stringify(q)}: ${String(e)}`);
      }
    }
  });
});
