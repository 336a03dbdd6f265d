/**
 * Runs a product's checks against the warehouse in as few statements as possible (see compile.ts):
 *   1. the scan — every row-level check, the row count and freshness, in one pass;   } sent together
 *   3. unique / references / assertion, in one statement (only when the product has any); }
 *   2. samples of failing row-level checks, in one statement (only when one failed).
 * A product with only row-level checks costs exactly 1 statement, or 2 when something failed.
 *
 * When a statement fails because of a check's SQL (a bad rowPredicate, an invalid regular expression, a missing
 * referenced table…), the checks are isolated — a zero-row probe per check (parse and plan errors), then, for errors
 * that only show while running, one statement per check — and the broken ones get status `error`; the scan is
 * repeated without them so the counts of the others stay exact. Only then does it cost more statements.
 * Errors that are not about the SQL (connection lost, statement timeout, out of memory) are thrown, as is a source
 * that cannot be read at all: no check can say anything then.
 */
import pg from 'pg';
import type { Check, FreshnessCheck } from '../product/checks.js';
import type { Product } from '../product/model.js';
import {
  compileCheckQuery,
  compileProbe,
  compileSamples,
  compileScan,
  compileSetChecks,
  isRowLevel,
  isSetCheck,
  maxAgeSeconds,
  type FreshnessPlan,
  type RowCountPlan,
  type RowLevelCheck,
  type SetCheck,
} from './compile.js';
import { reproductionQuery } from './reproduce.js';
import type { CompiledQuery } from './sql.js';
import type { CheckDetail, CheckReport, CheckResult, Queryable, RunChecksOptions } from './types.js';

/** The product's source cannot be read, so no check can run. */
export class ChecksError extends Error {
  override readonly name = 'ChecksError';
}

/**
 * SQLSTATE classes that mean "this SQL is wrong or does not fit the data" — the check's fault, reported as its
 * `error` status: 0A feature not supported, 21 cardinality, 22 data exception (bad regex, cast, division by zero),
 * 23 integrity, 25 invalid transaction state (a write in a read-only transaction), 2F/38/39 routine exceptions,
 * 3F invalid schema, 42 syntax or access rule (unknown column or table, type mismatch, no privilege), 44, 54 program
 * limit, P0 raised by PL/pgSQL. Anything else (08 connection, 53 resources, 57 canceled/shut down, XX internal) is
 * the warehouse's problem and is thrown.
 */
const CHECK_FAULT_CLASSES = new Set(['0A', '21', '22', '23', '25', '2F', '38', '39', '3F', '42', '44', '54', 'P0']);

export function isCheckFault(error: unknown): error is pg.DatabaseError {
  return error instanceof pg.DatabaseError && typeof error.code === 'string' && CHECK_FAULT_CLASSES.has(error.code.slice(0, 2));
}

function messageOf(error: pg.DatabaseError): string {
  return error.message + (error.hint ? ` (hint: ${error.hint})` : '');
}

interface Measured {
  rows: number;
  defects: number;
  failing: Map<Check, number>;
  freshness: Map<Check, { newest: string | null; ageSeconds: number | null }>;
}

type Exec = (query: CompiledQuery) => Promise<Record<string, unknown>[]>;

const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));

/** Runs the checks of `product` and decides whether serving may go on. */
export async function runChecks(db: Queryable, product: Product, options: RunChecksOptions = {}): Promise<CheckReport> {
  const started = performance.now();
  const schemas = options.schemas ?? {};
  const now = options.now ?? new Date();
  let statements = 0;
  const exec: Exec = async (query) => {
    statements++;
    // Extended protocol even without parameters: one statement only, never a `;`-separated batch.
    const config = { text: query.text, values: query.values as unknown[], queryMode: 'extended' };
    return (await db.query(config)).rows;
  };

  const rowChecks = product.checks.filter(isRowLevel);
  const freshness = product.checks.filter((check): check is FreshnessPlan => check.type === 'freshness');
  const setChecks = product.checks.filter(isSetCheck);
  const errors = new Map<Check, string>();

  const [measured, separate] = await Promise.all([
    scan(exec, product, rowChecks, freshness, errors, { ...options, schemas, now }),
    setChecks.length > 0 ? runSetChecks(exec, product, setChecks, errors, schemas) : Promise.resolve(new Map<Check, SetOutcome>()),
  ]);

  // Samples of the failing row-level checks, one statement.
  const samples = new Map<Check, Record<string, unknown>[]>();
  let sampleError: string | undefined;
  const failingRowChecks = rowChecks.filter((check) => (measured.failing.get(check) ?? 0) > 0);
  if (failingRowChecks.length > 0) {
    try {
      const failing = failingRowChecks.map((check) => measured.failing.get(check) ?? 0);
      const rows = await exec(
        compileSamples(product, failingRowChecks, schemas, {
          failing,
          ...(options.fence !== undefined && { fence: options.fence }),
          ...(options.valueLookups !== undefined && { valueLookups: options.valueLookups }),
        }),
      );
      for (const row of rows) {
        const check = failingRowChecks[Number(row.c)];
        if (!check) continue;
        const list = samples.get(check) ?? [];
        list.push(row.key as Record<string, unknown>);
        samples.set(check, list);
      }
    } catch (error) {
      if (!isCheckFault(error)) throw error;
      sampleError = messageOf(error);
    }
  }

  const results: CheckResult[] = product.checks.map((check) => {
    const reproduce = reproductionQuery(product, check, { schemas, now });
    const base = { name: check.name, type: check.type, severity: check.severity, sql: reproduce.text, params: reproduce.values };
    const error = errors.get(check);
    if (error !== undefined) {
      return { ...base, status: 'error', failing: 0, sampleKeys: [], error, message: `check ${check.name} (${check.type}) could not run: ${error}` };
    }
    if (isRowLevel(check)) {
      const failing = measured.failing.get(check) ?? 0;
      const result: CheckResult = { ...base, status: failing > 0 ? 'failed' : 'passed', failing, sampleKeys: samples.get(check) ?? [] };
      if (failing > 0) {
        result.message = `check ${check.name} (${describe(check)}) failed on ${fmt(failing)} of ${fmt(measured.rows)} rows`;
        if (sampleError !== undefined) result.detail = { sampleError };
      }
      return result;
    }
    if (check.type === 'freshness') return freshnessResult(base, check, measured.freshness.get(check));
    if (check.type === 'rowCount') return rowCountResult(base, check, measured.rows, options.previousRowCount ?? null);
    const outcome = separate.get(check);
    const failing = outcome?.failing ?? 0;
    const result: CheckResult = { ...base, status: failing > 0 ? 'failed' : 'passed', failing, sampleKeys: outcome?.sample ?? [] };
    if (outcome?.detail) result.detail = outcome.detail;
    if (failing > 0) result.message = setCheckMessage(check as SetCheck, failing, outcome?.detail);
    return result;
  });

  const defectFreeFraction = measured.rows === 0 ? 1 : 1 - measured.defects / measured.rows;
  const quarantine = options.onRowDefects === 'quarantine';
  const reasons: string[] = [];
  const warnings: string[] = [];
  results.forEach((result, i) => {
    if (result.status === 'passed') return;
    const rowDefect = result.status === 'failed' && isRowLevel(product.checks[i]!);
    const text = result.message ?? `check ${result.name} failed`;
    if (result.severity === 'block' && !(quarantine && rowDefect)) reasons.push(text);
    else warnings.push(quarantine && rowDefect ? `${text}; the failing rows are quarantined, not served` : text);
  });
  const objective = product.slo?.defectFree;
  if (objective !== undefined && defectFreeFraction < objective) {
    const text =
      `defect-free share ${defectFreeFraction.toFixed(4)} is below the SLO of ${objective} ` +
      `(${fmt(measured.defects)} of ${fmt(measured.rows)} rows fail a row-level check)`;
    if (quarantine) warnings.push(`${text}; the failing rows are quarantined, not served`);
    else reasons.push(text);
  }

  return {
    product: product.name,
    rows: measured.rows,
    defects: measured.defects,
    defectFreeFraction,
    results,
    statements,
    blocked: reasons.length > 0,
    reasons,
    warnings,
    durationMs: performance.now() - started,
  };
}

/** Statement 1, with the isolation of broken checks described at the top. */
async function scan(
  exec: Exec,
  product: Product,
  rowChecks: readonly RowLevelCheck[],
  freshness: readonly FreshnessPlan[],
  errors: Map<Check, string>,
  options: RunChecksOptions & { now: Date },
): Promise<Measured> {
  const measure = async (rows: readonly RowLevelCheck[], fresh: readonly FreshnessPlan[]): Promise<Measured> => {
    const plan = compileScan(product, rows, fresh, options);
    const [row] = await exec(plan);
    return {
      rows: num(row?.rows),
      defects: num(row?.defects),
      failing: new Map(rows.map((check, i) => [check, num(row?.[`c${i}`])])),
      freshness: new Map(
        fresh.map((check, j) => {
          const newest = row?.[`newest${j}`];
          const age = row?.[`age${j}`];
          return [check, { newest: newest === null || newest === undefined ? null : String(newest), ageSeconds: age === null || age === undefined ? null : Number(age) }];
        }),
      ),
    };
  };
  try {
    return await measure(rowChecks, freshness);
  } catch (error) {
    if (!isCheckFault(error)) throw error;
  }
  // Something in the scan is broken. Can the source itself be read?
  try {
    await exec(compileProbe(product, undefined, options));
  } catch (error) {
    if (!isCheckFault(error)) throw error;
    throw new ChecksError(`The source of product ${product.name} cannot be read, so its checks cannot run: ${messageOf(error)}`, { cause: error });
  }
  // Parse and plan errors: a zero-row probe per check.
  const items: Check[] = [...rowChecks, ...freshness];
  for (const check of items) {
    try {
      await exec(compileProbe(product, check, options));
    } catch (error) {
      if (!isCheckFault(error)) throw error;
      errors.set(check, messageOf(error));
    }
  }
  const ok = <T extends Check>(list: readonly T[]) => list.filter((check) => !errors.has(check));
  try {
    return await measure(ok(rowChecks), ok(freshness));
  } catch (error) {
    if (!isCheckFault(error)) throw error;
  }
  // Errors that only show while running (a bad regex, a failing cast on some row): one statement per check.
  for (const check of ok(items)) {
    try {
      await exec(compileCheckQuery(product, check, options));
    } catch (error) {
      if (!isCheckFault(error)) throw error;
      errors.set(check, messageOf(error));
    }
  }
  return await measure(ok(rowChecks), ok(freshness));
}

interface SetOutcome {
  failing: number;
  sample: Record<string, unknown>[];
  detail?: CheckDetail;
}

/** Statement 3: unique, references and assertions together; on a SQL error, each alone to find the broken ones. */
async function runSetChecks(
  exec: Exec,
  product: Product,
  checks: readonly SetCheck[],
  errors: Map<Check, string>,
  schemas: RunChecksOptions['schemas'],
): Promise<Map<Check, SetOutcome>> {
  const outcomes = new Map<Check, SetOutcome>();
  const read = (list: readonly SetCheck[], rows: Record<string, unknown>[]) => {
    for (const row of rows) {
      const check = list[Number(row.c)];
      if (!check) continue;
      const detail = row.detail as { duplicateKeys?: number } | null;
      outcomes.set(check, {
        failing: num(row.failing),
        sample: (row.sample as Record<string, unknown>[] | null) ?? [],
        ...(detail && detail.duplicateKeys !== undefined && { detail: { duplicateKeys: Number(detail.duplicateKeys) } }),
      });
    }
  };
  try {
    read(checks, await exec(compileSetChecks(product, checks, schemas)));
    return outcomes;
  } catch (error) {
    if (!isCheckFault(error)) throw error;
    if (checks.length === 1) {
      errors.set(checks[0]!, messageOf(error));
      return outcomes;
    }
  }
  for (const check of checks) {
    try {
      read([check], await exec(compileSetChecks(product, [check], schemas)));
    } catch (error) {
      if (!isCheckFault(error)) throw error;
      errors.set(check, messageOf(error));
    }
  }
  return outcomes;
}

type ResultBase = Pick<CheckResult, 'name' | 'type' | 'severity' | 'sql' | 'params'>;

function freshnessResult(base: ResultBase, check: FreshnessCheck, observed: { newest: string | null; ageSeconds: number | null } | undefined): CheckResult {
  const limit = maxAgeSeconds(check);
  const newest = observed?.newest ?? null;
  const ageSeconds = observed?.ageSeconds ?? null;
  const stale = ageSeconds === null || ageSeconds > limit;
  const result: CheckResult = {
    ...base,
    status: stale ? 'failed' : 'passed',
    failing: stale ? 1 : 0,
    sampleKeys: [],
    detail: { newest, ageSeconds, maxAgeSeconds: limit },
  };
  if (stale) {
    result.message =
      newest === null
        ? `check ${check.name} (freshness of ${check.column}) failed: the column has no values`
        : `check ${check.name} (freshness of ${check.column}) failed: the newest value ${newest} is ${age(ageSeconds ?? 0)} old, more than ${check.maxAge}`;
  }
  return result;
}

function rowCountResult(base: ResultBase, check: RowCountPlan, rows: number, previous: number | null): CheckResult {
  const problems: string[] = [];
  if (check.min !== undefined && rows < check.min) problems.push(`${fmt(rows)} rows, fewer than the minimum of ${fmt(check.min)}`);
  if (check.max !== undefined && rows > check.max) problems.push(`${fmt(rows)} rows, more than the maximum of ${fmt(check.max)}`);
  // No previous run, or one without rows: there is nothing to compare a change with.
  const change = previous !== null && previous > 0 ? (rows - previous) / previous : null;
  if (check.maxChange !== undefined && change !== null && Math.abs(change) > check.maxChange) {
    problems.push(
      `${fmt(rows)} rows, a change of ${pct(change)} against the previous run's ${fmt(previous ?? 0)}, beyond ±${(check.maxChange * 100).toFixed(1)}%`,
    );
  }
  const result: CheckResult = {
    ...base,
    status: problems.length > 0 ? 'failed' : 'passed',
    failing: problems.length > 0 ? 1 : 0,
    sampleKeys: [],
    detail: { rows, previousRowCount: previous, change },
  };
  if (problems.length > 0) result.message = `check ${check.name} (rowCount) failed: ${problems.join('; ')}`;
  return result;
}

function setCheckMessage(check: SetCheck, failing: number, detail: CheckDetail | undefined): string {
  switch (check.type) {
    case 'unique':
      return `check ${check.name} (unique ${check.columns.join(', ')}) failed: ${fmt(failing)} rows share a key with another row (${fmt(detail?.duplicateKeys ?? 0)} duplicated keys)`;
    case 'references':
      return `check ${check.name} (references ${check.to.table.schema}.${check.to.table.name}.${check.to.column}) failed: ${fmt(failing)} rows have a ${check.column} missing there`;
    case 'assertion':
      return `check ${check.name} (assertion) failed: the query returned ${fmt(failing)} offending row${failing === 1 ? '' : 's'}`;
  }
}

function describe(check: RowLevelCheck): string {
  switch (check.type) {
    case 'notNull':
      return `notNull ${check.columns.join(', ')}`;
    case 'rowPredicate':
      return `rowPredicate ${check.expression.trim()}`;
    default:
      return `${check.type} on ${check.column}`;
  }
}

const fmt = (n: number): string => n.toLocaleString('en-US');
const pct = (share: number): string => `${share >= 0 ? '+' : ''}${(share * 100).toFixed(1)}%`;

function age(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}
