/** The bridge to the metadata store: a check report as rows of `lastmile.check_results`. */
import type { CheckResultInput, JsonValue } from '../meta/types.js';
import type { CheckType } from '../product/checks.js';
import { pastableSql } from './reproduce.js';
import type { CheckReport } from './types.js';

const KINDS: Record<CheckType, string> = {
  notNull: 'not_null',
  unique: 'unique',
  acceptedValues: 'accepted_values',
  range: 'range',
  pattern: 'pattern',
  rowCount: 'row_count',
  freshness: 'freshness',
  references: 'references',
  rowPredicate: 'row_predicate',
  assertion: 'assertion',
};

/**
 * `recordChecks(runId, toCheckResultInputs(report))`. The sample holds the keys, the error and what the check
 * observed; the SQL is the check's reproduction (see reproduce.ts) with its values written in as literals, so it can
 * be pasted into psql as is and lists what the check found.
 */
export function toCheckResultInputs(report: CheckReport): CheckResultInput[] {
  return report.results.map((result) => {
    const sample: Record<string, JsonValue> = { keys: result.sampleKeys as JsonValue };
    if (result.error !== undefined) sample.error = result.error;
    if (result.message !== undefined) sample.message = result.message;
    if (result.detail !== undefined) sample.detail = result.detail as unknown as JsonValue;
    return {
      checkName: result.name,
      kind: KINDS[result.type],
      severity: result.severity,
      status: result.status,
      failing: result.failing,
      sample,
      sql: pastableSql({ text: result.sql, values: result.params }),
    };
  });
}
