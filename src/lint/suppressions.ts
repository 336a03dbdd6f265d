/**
 * `// lastmile-lint-ignore <rule-id>[, <rule-id>…]: <reason>` on its own line suppresses those rules' findings on the
 * next line (several such comments may stand one above the other). A comment without a reason, or naming a rule that
 * does not exist, suppresses nothing and is a finding itself; one that suppressed nothing is a warning.
 */
import { isRuleId } from './catalog.js';
import type { RawFinding, RuleId } from './types.js';

const MARKER = 'lastmile-lint-ignore';
const COMMENT = /^(\s*)\/\/\s*lastmile-lint-ignore\b(.*)$/;

export interface Suppression {
  /** the line of the comment */
  readonly line: number;
  /** the line it applies to */
  readonly target: number;
  readonly rules: readonly RuleId[];
  readonly reason: string;
  readonly column: number;
  readonly endColumn: number;
}

export interface ParsedSuppressions {
  readonly suppressions: readonly Suppression[];
  /** malformed comments */
  readonly problems: readonly RawFinding[];
}

export function parseSuppressions(text: string): ParsedSuppressions {
  const lines = text.split(/\r?\n/);
  const suppressions: Suppression[] = [];
  const problems: RawFinding[] = [];
  lines.forEach((line, index) => {
    const match = COMMENT.exec(line);
    if (!match) return;
    let target = index + 1;
    while (target < lines.length && COMMENT.test(lines[target]!)) target += 1;
    const region = { line: index + 1, column: match[1]!.length + 1, endLine: index + 1, endColumn: line.length + 1 };
    const rest = match[2]!;
    const colon = rest.indexOf(':');
    const idsText = colon >= 0 ? rest.slice(0, colon) : rest;
    const reason = colon >= 0 ? rest.slice(colon + 1).trim() : '';
    const ids = idsText.split(',').map((id) => id.trim()).filter((id) => id.length > 0);
    const unknown = ids.filter((id) => !isRuleId(id));
    const problem = (message: string): void => {
      problems.push({ ...region, rule: 'lint/suppression', message, fix: `write it as // ${MARKER} <rule-id>: <why this line is fine>, e.g. // ${MARKER} determinism/clock: the sandbox pins Date to the workflow task time` });
    };
    if (ids.length === 0) problem(`this ${MARKER} comment names no rule, so it suppresses nothing`);
    else if (unknown.length > 0) problem(`this ${MARKER} comment names ${unknown.map((id) => `'${id}'`).join(', ')}, which lastmile lint does not have, so it suppresses nothing`);
    else if (reason.length === 0) problem(`this ${MARKER} comment gives no reason, so it suppresses nothing; a suppression must say why the line is fine`);
    else suppressions.push({ line: index + 1, target: target + 1, rules: ids.filter(isRuleId), reason, column: region.column, endColumn: region.endColumn });
  });
  return { suppressions, problems };
}

/**
 * The findings no suppression covers, plus the malformed comments and a warning for each suppression that matched
 * nothing (the code it excused has changed: the comment should go).
 */
export function applySuppressions(findings: readonly RawFinding[], text: string): { kept: RawFinding[]; unused: RawFinding[] } {
  const { suppressions, problems } = parseSuppressions(text);
  const used = new Set<Suppression>();
  const kept = findings.filter((finding) => {
    const covering = suppressions.filter((s) => s.target === finding.line && s.rules.includes(finding.rule));
    for (const s of covering) used.add(s);
    return covering.length === 0;
  });
  const unused = suppressions
    .filter((s) => !used.has(s))
    .map((s): RawFinding => ({
      line: s.line,
      column: s.column,
      endLine: s.line,
      endColumn: s.endColumn,
      rule: 'lint/unused-suppression',
      message: `this ${MARKER} comment suppresses ${s.rules.join(', ')} on line ${s.target}, which has no such finding`,
      fix: 'delete the comment (the code it excused has changed), or move it right above the line it is meant for',
    }));
  return { kept: [...kept, ...problems], unused };
}
