/**
 * Compiles a product's checks into as few SQL statements as possible.
 *
 * Statement 1 — the scan (`compileScan`): every ROW-LEVEL check (notNull, acceptedValues, range, pattern,
 * rowPredicate) becomes one boolean "this row fails" expression, and all of them are measured in ONE pass over the
 * source, together with the row count (for `rowCount`, which so needs no query of its own) and `max(column)` of each
 * `freshness` check. It returns each check's failing count and the defect count (rows failing at least one
 * row-level check) — exact, no sampling.
 *
 *   The scan evaluates each failure expression once per row: the inner query groups the rows by their vector of
 *   failure flags (a handful of groups — usually one all-false group plus one per kind of defect), and the outer
 *   query adds the group sizes up per check and for "any check". The textbook form
 *   `count(*) filter (where f1), …, count(*) filter (where f1 or f2 …)` evaluates every expression twice for each
 *   passing row (once in its own FILTER and again in the OR), which doubles the cost of expensive ones (regular
 *   expressions, user predicates). Both forms are available (`strategy`); `bench/checks.ts` measures them.
 *   The group key stays a vector of booleans: an integer bitmask (`case when f0 then 1 else 0 end + …`) hashes one
 *   value instead of ten and costs 10–15 % less CPU, but Postgres estimates such an expression to have about as many
 *   values as there are rows (booleans: 2 each), so it plans no partial aggregation in parallel workers and the scan
 *   gets ≈1.6× slower; measured in docs/checks.md (Performance), as is the rest: on data in memory the scan costs
 *   one pass plus the predicates.
 *   A pattern check over a table source matches the column's most common values (from pg_stats, read by the scan
 *   itself) once each instead of matching every row (`patternLookup`): a regular expression costs more than all
 *   the other predicates of a row together, and the columns patterns guard are often code-like.
 *   A query source is fenced (see fromSource): Postgres would otherwise recompute a computed source column at every
 *   reference the checks make to it; a table source is not (stored columns, nothing to recompute).
 *
 * Statement 2 — samples (`compileSamples`), only when a row-level check failed: up to 5 keys per failing check,
 * ordered by the key, in one statement — one more pass over the source that keeps the failing rows, numbers them
 * per check in key order and keeps the first 5 (or, when very many rows fail, one `order by <key> limit 5` branch
 * per failing check).
 *
 * Statement 3 — the checks that cannot share the scan (`compileSetChecks`), all in one statement:
 *   - `unique`: a property of groups of rows, not of a row (`group by key having count(*) > 1`); the scan would have
 *     to hash the whole key space per unique check.
 *   - `references`: needs an anti-join against another table; inside the scan it would turn every row into a lookup.
 *   - `assertion`: arbitrary SQL over the whole result; it cannot be expressed as a per-row condition.
 *   Each is a CTE plus one `union all` branch returning (check index, failing count, sample); the CTEs hold only the
 *   offending groups / rows, never a copy of the source.
 *
 * NULL semantics (also in docs/checks.md): only `notNull` fails on NULL. `acceptedValues`, `range`, `pattern`,
 * `references` pass a NULL (like a CHECK constraint / a foreign key); `unique` ignores rows whose key has a NULL
 * (like a unique constraint). `rowPredicate` is stricter: a row fails unless the predicate is TRUE, so NULL fails —
 * write `units is null or returns <= units` to let NULLs through. `freshness` looks at the newest non-null value; a
 * source with none is stale.
 */
import type {
  AcceptedValuesCheck,
  AssertionCheck,
  Check,
  FreshnessCheck,
  NotNullCheck,
  PatternCheck,
  RangeCheck,
  ReferencesCheck,
  RowCountCheck,
  RowPredicateCheck,
  UniqueCheck,
} from '../product/checks.js';
import { durationMs } from '../time/duration.js';
import { quoteIdent } from '../warehouse/quote.js';
import type { Product } from '../product/model.js';
import { resolveSql, resolveTable } from '../sql/resolve.js';
import { type SchemaMap } from '../product/source.js';
import { Params, col, fenceFor, fromSource, keyColumns, userSql, type CompiledQuery } from './sql.js';

export type RowLevelCheck = Check & (NotNullCheck | AcceptedValuesCheck | RangeCheck | PatternCheck | RowPredicateCheck);
export type SetCheck = Check & (UniqueCheck | ReferencesCheck | AssertionCheck);
export type FreshnessPlan = Check & FreshnessCheck;
export type RowCountPlan = Check & RowCountCheck;

/** Where each check runs. */
export type CheckPlacement = 'row' | 'scan' | 'separate';

/** `row`: a per-row condition in the scan; `scan`: an aggregate of the scan (rowCount, freshness); `separate`: statement 3. */
export function placementOf(check: Check): CheckPlacement {
  switch (check.type) {
    case 'notNull':
    case 'acceptedValues':
    case 'range':
    case 'pattern':
    case 'rowPredicate':
      return 'row';
    case 'rowCount':
    case 'freshness':
      return 'scan';
    case 'unique':
    case 'references':
    case 'assertion':
      return 'separate';
  }
}

export function isRowLevel(check: Check): check is RowLevelCheck {
  return placementOf(check) === 'row';
}
export function isSetCheck(check: Check): check is SetCheck {
  return placementOf(check) === 'separate';
}

/** The row-level checks of a product, in declaration order. */
export function rowLevelChecks(product: Pick<Product, 'checks'>): RowLevelCheck[] {
  return product.checks.filter(isRowLevel);
}

/**
 * The condition under which a row FAILS a row-level check, over the source alias `s`. Never NULL (so it can be
 * grouped by, OR-ed and negated safely). Values are added to `params`. The scan, the per-check query, the samples
 * and the quarantine all use it, so they agree row for row. A NULL value passes acceptedValues / range / pattern
 * through `is false` / `is true` (a comparison with NULL is NULL) rather than a separate `x is not null and …`,
 * one test less per row and check.
 */
export function failureCondition(check: RowLevelCheck, params: Params, alias = 's'): string {
  switch (check.type) {
    case 'notNull':
      return `(${check.columns.map((name) => `${col(name, alias)} is null`).join(' or ')})`;
    case 'acceptedValues':
      // `= any(…)` is NULL for a NULL value (it passes) and never NULL otherwise: the list holds no NULL (the schema).
      return `((${col(check.column, alias)} = any(${params.add([...check.values])})) is false)`;
    case 'range': {
      const c = col(check.column, alias);
      const outside: string[] = [];
      if (check.min !== undefined) outside.push(`${c} ${check.exclusiveMin ? '<=' : '<'} ${params.add(check.min)}`);
      if (check.max !== undefined) outside.push(`${c} ${check.exclusiveMax ? '>=' : '>'} ${params.add(check.max)}`);
      // The schema requires a bound; a check built by hand without one fails no row.
      if (outside.length === 0) return 'false';
      // A NULL value makes every comparison NULL, and NULL is not true: it passes.
      return `((${outside.join(' or ')}) is true)`;
    }
    case 'pattern':
      return patternFails(col(check.column, alias), params.add(check.pattern, 'text'));
    case 'rowPredicate':
      return `((${userSql(check.expression)}) is not true)`;
  }
}

export type ScanStrategy = 'grouped' | 'filters';

export interface ScanOptions {
  schemas?: SchemaMap;
  /** The reference time of freshness checks (default: now). */
  now?: Date;
  /** `grouped` (default): each failure expression evaluated once per row. `filters`: one FILTER aggregate per check. */
  strategy?: ScanStrategy;
  /** Compute each source row once (see fromSource). Default: for query sources, not for tables. */
  fence?: boolean;
  /**
   * Evaluate each pattern check of a table source once per most common value of its column (`valueLookups`).
   * Default true; false gives the plain row-by-row form.
   */
  valueLookups?: boolean;
}

/** `value` does not match `pattern` (a placeholder); NULL passes (the match is NULL, which is not false). */
function patternFails(value: string, pattern: string): string {
  return `((${value}::text ~ ${pattern}) is false)`;
}

/**
 * A pattern check over a TABLE source, in the scan, looks its column up in the table's statistics instead of
 * matching the regular expression on every row. The statement reads the column's most-common-values list from
 * `pg_stats` (ANALYZE keeps up to 100 values there; a code-like column with a few dozen values is listed whole) in an
 * init plan, matches each listed value once, and joins the rows to that small list by hash: a row whose value is
 * listed takes the listed verdict, any other row (a value not listed, NULL, a table never analyzed) is matched as
 * before. Exact either way — the verdict of a listed value comes from the value itself, never from statistics, so
 * stale statistics only cost speed. Still ONE statement: the catalog read is part of it.
 *
 * Equality is byte for byte (`collate "C"` on both sides), and the list is used only when the column has the
 * database's default collation (or none, for non-text columns): a regular expression under another collation can
 * classify characters differently, so such a column is matched row by row.
 *
 * A regular expression costs ≈0.5 µs a row and a hash lookup a small fraction of that, so on a column with few
 * values this takes the pattern check from the most expensive check in the scan to about the cheapest; on a column
 * with a value per row (an id, an e-mail) the list covers almost nothing and the join adds ≈10 % to the check.
 * The list is made distinct (two values printing alike would otherwise match a row twice), which also keeps
 * Postgres from merging the subquery into the scan: `bad` is computed inside it, once per listed value, and the join
 * is known to match at most one value per row.
 */
function patternLookup(
  product: Pick<Product, 'source'>,
  check: Check & PatternCheck,
  alias: string,
  schemas: SchemaMap,
  params: Params,
): { join: string; failure: string } | undefined {
  if (product.source.kind !== 'table') return undefined;
  const pattern = params.add(check.pattern, 'text');
  const relation = params.add(resolveTable(product.source, schemas), 'text');
  const column = params.add(check.column, 'text');
  const value = col(check.column);
  const list = [
    'select st.most_common_vals::text::text[]',
    '    from pg_catalog.pg_stats as st',
    `    join pg_catalog.pg_class as c on c.oid = to_regclass(${relation})`,
    '    join pg_catalog.pg_namespace as n on n.oid = c.relnamespace',
    '    join pg_catalog.pg_attribute as a on a.attrelid = c.oid and a.attname = st.attname',
    `    where st.schemaname = n.nspname and st.tablename = c.relname and st.attname = ${column}`,
    "      and (a.attcollation = 0 or a.attcollation = (select oid from pg_catalog.pg_collation where collname = 'default' and collnamespace = 'pg_catalog'::regnamespace))",
    '    order by st.inherited desc',
    '    limit 1',
  ].join('\n');
  const join =
    `left join (\n  select lastmile_value.v, ${patternFails('lastmile_value.v', pattern)} as bad\n` +
    `  from (select distinct u.v from unnest(coalesce((\n    ${list}\n  ), '{}'::text[])) as u(v)) as lastmile_value\n` +
    `) as ${alias} on ${alias}.v collate "C" = ${value}::text collate "C"`;
  return { join, failure: `(case when ${alias}.v is not null then ${alias}.bad else ${patternFails(value, pattern)} end)` };
}

/**
 * What the scan reads and tests: its FROM clause (the source as `s`, plus the lookup joins of pattern checks) and
 * each row-level check's failure condition over it, in the order of `rowChecks`.
 */
export function scanSource(
  product: Pick<Product, 'source'>,
  rowChecks: readonly RowLevelCheck[],
  params: Params,
  options: Pick<ScanOptions, 'schemas' | 'fence' | 'valueLookups'> = {},
): { from: string; failures: string[] } {
  const schemas = options.schemas ?? {};
  const joins: string[] = [];
  const failures = rowChecks.map((check) => {
    const lookup = check.type === 'pattern' && options.valueLookups !== false ? patternLookup(product, check, `lastmile_values${joins.length}`, schemas, params) : undefined;
    if (!lookup) return failureCondition(check, params);
    joins.push(lookup.join);
    return lookup.failure;
  });
  return { from: [fromSource(product, schemas, 's', options.fence ?? fenceFor(product)), ...joins].join('\n'), failures };
}

/** Output columns of the scan: `rows`, `defects`, `c<i>` per row check, `newest<j>` / `age<j>` per freshness check. */
export interface ScanPlan extends CompiledQuery {
  readonly rowChecks: readonly RowLevelCheck[];
  readonly freshness: readonly FreshnessPlan[];
}

/**
 * The one statement that measures every given row-level check and freshness check over the product's source:
 * `rows`, `c0…` (failing rows per row check), `defects` (rows failing at least one), and per freshness check the
 * newest value (`newest<j>`, text) and its age in seconds at `now` (`age<j>`).
 */
export function compileScan(
  product: Pick<Product, 'source'>,
  rowChecks: readonly RowLevelCheck[],
  freshness: readonly FreshnessPlan[],
  options: ScanOptions = {},
): ScanPlan {
  const params = new Params();
  const { from, failures } = scanSource(product, rowChecks, params, options);
  const now = freshness.length > 0 ? params.add(options.now ?? new Date(), 'timestamptz') : '';
  const age = (newest: string) => `extract(epoch from (${now} - (${newest})::timestamptz))::float8`;

  let text: string;
  if ((options.strategy ?? 'grouped') === 'filters' || failures.length === 0) {
    const lines = [
      'count(*)::bigint as rows',
      ...failures.map((failure, i) => `count(*) filter (where ${failure})::bigint as c${i}`),
      `${failures.length > 0 ? `count(*) filter (where ${failures.join(' or ')})` : '0'}::bigint as defects`,
      ...freshness.flatMap((check, j) => {
        const newest = `max(${col(check.column)})`;
        return [`${newest}::text as newest${j}`, `${age(newest)} as age${j}`];
      }),
    ];
    text = `select\n  ${lines.join(',\n  ')}\nfrom ${from}`;
  } else {
    const inner = [
      ...failures.map((failure, i) => `${failure} as f${i}`),
      'count(*) as n',
      ...freshness.map((check, j) => `max(${col(check.column)}) as m${j}`),
    ];
    const outer = [
      'coalesce(sum(g.n), 0)::bigint as rows',
      ...failures.map((_, i) => `coalesce(sum(g.n) filter (where g.f${i}), 0)::bigint as c${i}`),
      `coalesce(sum(g.n) filter (where ${failures.map((_, i) => `g.f${i}`).join(' or ')}), 0)::bigint as defects`,
      ...freshness.flatMap((_, j) => [`max(g.m${j})::text as newest${j}`, `${age(`max(g.m${j})`)} as age${j}`]),
    ];
    const groupBy = failures.map((_, i) => String(i + 1)).join(', ');
    text =
      `select\n  ${outer.join(',\n  ')}\nfrom (\n` +
      `  select\n    ${inner.join(',\n    ')}\n  from ${from}\n  group by ${groupBy}\n) as g`;
  }
  return { text, values: params.values, rowChecks, freshness };
}

/** Ordering of sample rows: the key columns, NULLs last. */
function orderByKey(columns: readonly string[], alias: string): string {
  return columns.map((name) => col(name, alias)).join(', ');
}

/** The key columns as a select list, `s."a", s."b"`, so `row_to_json` of the row names them itself. */
function selectKey(columns: readonly string[], alias = 's'): string {
  return columns.map((name) => col(name, alias)).join(', ');
}

export const SAMPLE_SIZE = 5;

/**
 * Above this many failing (row, check) pairs, samples are taken one `order by … limit 5` branch per check (a pass
 * each, but a 5-row heap) instead of in one pass that sorts every failing pair.
 */
export const SAMPLE_SORT_LIMIT = 1_000_000;

export interface SampleOptions {
  /** Failing rows per check (from the scan), to choose between one pass and one branch per check. */
  failing?: readonly number[];
  limit?: number;
  /** As for the scan (default: for query sources, not for tables). */
  fence?: boolean;
  /** As for the scan (default true). */
  valueLookups?: boolean;
}

/**
 * One statement returning up to 5 keys of failing rows per given check, ordered by the key: rows `(c, key)` where
 * `c` indexes `checks` and `key` is a JSON object of the key columns (contract key, or all contract columns).
 *
 * Usually (fewer than SAMPLE_SORT_LIMIT failing pairs, per `options.failing`) it is ONE pass over the source: the
 * rows failing any of the checks, one (check, key) pair per failed check, numbered per check in key order, the
 * first 5 kept. With more failing pairs than that, the sort would cost more than a pass per check, and each check
 * gets a `union all` branch with `order by <key> limit 5` (a top-5 heap, no sort).
 */
export function compileSamples(
  product: Pick<Product, 'source' | 'contract'>,
  checks: readonly RowLevelCheck[],
  schemas: SchemaMap = {},
  options: SampleOptions = {},
): CompiledQuery {
  const limit = options.limit ?? SAMPLE_SIZE;
  const params = new Params();
  const key = keyColumns(product);
  const failing = options.failing?.reduce((sum, n) => sum + n, 0) ?? Infinity;
  const passOptions = { schemas, fence: options.fence ?? fenceFor(product), ...(options.valueLookups !== undefined && { valueLookups: options.valueLookups }) };
  if (failing <= SAMPLE_SORT_LIMIT) {
    const { from, failures } = scanSource(product, checks, params, passOptions);
    const lines = [
      'select x.c, x.key from (',
      `  select v.c, row_to_json(k) as key, row_number() over (partition by v.c order by ${orderByKey(key, 'd')}) as rn`,
      '  from (',
      `    select ${selectKey(key)}, ${failures.map((failure, i) => `${failure} as lastmile_f${i}`).join(', ')}`,
      `    from ${from}`,
      `    where ${failures.join('\n       or ')}`,
      '  ) as d',
      `  cross join lateral (values ${checks.map((_, i) => `(${i}, d.lastmile_f${i})`).join(', ')}) as v(c, fails)`,
      `  cross join lateral (select ${selectKey(key, 'd')}) as k`,
      '  where v.fails',
      ') as x',
      `where x.rn <= ${limit}`,
      'order by x.c, x.rn',
    ];
    const text = lines.join('\n');
    return { text, values: params.values };
  }
  const branches = checks.map((check, i) => {
    const { from, failures } = scanSource(product, [check], params, { ...passOptions, fence: false });
    return (
      `(select ${i} as c, row_number() over () as ord, row_to_json(k) as key from (\n` +
      `  select ${selectKey(key)} from ${from}\n  where ${failures[0]}\n` +
      `  order by ${orderByKey(key, 's')} limit ${limit}\n) as k)`
    );
  });
  return { text: `select x.c, x.key from (\n${branches.join('\nunion all\n')}\n) as x\norder by x.c, x.ord`, values: params.values };
}

/**
 * One statement measuring the checks that cannot share the scan (unique, references, assertion). Rows
 * `(c, failing, sample, detail)`, one per check, `c` indexing `checks`:
 * - unique: `failing` = rows whose key (all columns non-null) occurs more than once; `sample` = up to 5 duplicated
 *   key values, ordered; `detail.duplicateKeys` = how many distinct keys are duplicated.
 * - references: `failing` = rows whose non-null value has no match in the other table; `sample` = their contract key
 *   and the value, ordered by the key.
 * - assertion: `failing` = rows the assertion query returns; `sample` = the first 5 of them (its own order). The
 *   query may read the product's rows as `source` (a CTE holding the product's source).
 */
export function compileSetChecks(
  product: Pick<Product, 'source' | 'contract'>,
  checks: readonly SetCheck[],
  schemas: SchemaMap = {},
  limit = SAMPLE_SIZE,
): CompiledQuery {
  const key = keyColumns(product);
  const ctes: string[] = [];
  const branches: string[] = [];
  // Up to `limit` rows of a CTE as a JSON array of objects: `columns` of it (all when omitted), ordered by `order`.
  const jsonRows = (cte: string, columns: readonly string[] | undefined, order: readonly string[]) => {
    const select = columns ? columns.map((name) => col(name, 'd')).join(', ') : '*';
    const inner = order.length > 0 ? ` order by ${order.map((name) => col(name, 'd')).join(', ')}` : '';
    const outer = order.length > 0 ? ` order by ${order.map((name) => col(name, 'k')).join(', ')}` : '';
    return `(select coalesce(json_agg(row_to_json(k)${outer}), '[]'::json) from (select ${select} from ${cte} as d${inner} limit ${limit}) as k)`;
  };
  if (checks.some((check) => check.type === 'assertion')) {
    ctes.push(`source as (\n${resolveSql(product.source, schemas)}\n)`);
  }
  checks.forEach((check, i) => {
    const cte = `lastmile_check_${i}`;
    switch (check.type) {
      case 'unique': {
        const columns = check.columns.map((name) => col(name));
        ctes.push(
          `${cte} as (\n  select ${columns.join(', ')}, count(*) as lastmile_rows from ${fromSource(product, schemas)}\n` +
            `  where ${columns.map((c) => `${c} is not null`).join(' and ')}\n` +
            `  group by ${columns.map((_, n) => n + 1).join(', ')} having count(*) > 1\n)`,
        );
        branches.push(
          `select ${i} as c, (select coalesce(sum(lastmile_rows), 0) from ${cte})::bigint as failing, ` +
            `${jsonRows(cte, check.columns, check.columns)} as sample, ` +
            `json_build_object('duplicateKeys', (select count(*) from ${cte})) as detail`,
        );
        break;
      }
      case 'references': {
        const columns = [...key, ...(key.includes(check.column) ? [] : [check.column])];
        const value = col(check.column);
        ctes.push(
          `${cte} as (\n  select ${columns.map((name) => col(name)).join(', ')} from ${fromSource(product, schemas)}\n` +
            `  where ${value} is not null and not exists (\n` +
            `    select 1 from ${resolveTable(check.to.table, schemas)} as t where t.${quoteIdent(check.to.column)} = ${value}\n  )\n)`,
        );
        branches.push(
          `select ${i} as c, (select count(*) from ${cte})::bigint as failing, ${jsonRows(cte, undefined, key)} as sample, null::json as detail`,
        );
        break;
      }
      case 'assertion': {
        ctes.push(`${cte} as (${userSql(resolveSql(check.query, schemas))})`);
        branches.push(
          `select ${i} as c, (select count(*) from ${cte})::bigint as failing, ${jsonRows(cte, undefined, [])} as sample, null::json as detail`,
        );
        break;
      }
    }
  });
  return { text: `with\n${ctes.join(',\n')}\n${branches.join('\nunion all\n')}`, values: [] };
}

export interface CheckQueryOptions {
  schemas?: SchemaMap;
  now?: Date;
}

/**
 * A statement measuring ONE check on its own — what a tool that runs one query per check would send, and what a
 * person runs to reproduce a result. Row-level: `select count(*) as failing … where <fails>`; freshness: newest
 * value and age; rowCount: `count(*)`; unique / references / assertion: their branch of `compileSetChecks`.
 */
export function compileCheckQuery(product: Pick<Product, 'source' | 'contract'>, check: Check, options: CheckQueryOptions = {}): CompiledQuery {
  const schemas = options.schemas ?? {};
  if (isRowLevel(check)) {
    const params = new Params();
    const failure = failureCondition(check, params);
    return { text: `select count(*) as failing from ${fromSource(product, schemas)}\nwhere ${failure}`, values: params.values };
  }
  if (isSetCheck(check)) return compileSetChecks(product, [check], schemas);
  if (check.type === 'freshness') {
    const { text, values } = compileScan(product, [], [check], { schemas, ...(options.now && { now: options.now }) });
    return { text, values };
  }
  return { text: `select count(*) as rows from ${fromSource(product, schemas)}`, values: [] };
}

/** A zero-row statement that makes Postgres parse and plan a check's SQL (catches unknown columns, syntax and type errors). */
export function compileProbe(product: Pick<Product, 'source' | 'contract'>, check: Check | undefined, options: CheckQueryOptions = {}): CompiledQuery {
  const schemas = options.schemas ?? {};
  if (check === undefined) return { text: `select * from ${fromSource(product, schemas)}\nlimit 0`, values: [] };
  if (isRowLevel(check)) {
    const params = new Params();
    const failure = failureCondition(check, params);
    return { text: `select ${failure} from ${fromSource(product, schemas)}\nlimit 0`, values: params.values };
  }
  const { text, values } = compileCheckQuery(product, check, options);
  return { text: `select * from (\n${text}\n) as probe limit 0`, values };
}

/** Seconds of a freshness check's `maxAge`. */
export function maxAgeSeconds(check: FreshnessCheck): number {
  return durationMs(check.maxAge) / 1000;
}
