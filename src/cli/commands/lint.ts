import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hasErrors, lintProject } from '../../lint/run-lint.js';
import { toSarif } from '../../lint/sarif.js';
import type { Finding, LintResult } from '../../lint/types.js';
import { CommandFailure, EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';

/**
 * `lastmile lint [--sarif FILE] [--json]`: the static checks of products/, lastmile.config.ts and workflows/. Exit 1
 * when a finding of severity error is among them, 0 otherwise (warnings alone do not fail).
 */
export async function lintCommand(root: string, options: { sarif?: string }, out: Output): Promise<number> {
  if (!['lastmile.config.ts', 'products', 'workflows'].some((name) => existsSync(path.join(root, name)))) {
    throw new CommandFailure(
      `${path.resolve(root)} is not a lastmile project: it has no lastmile.config.ts, products/ or workflows/. ` +
        'Run lastmile lint in the project folder, or pass it with --root DIR.',
    );
  }
  const result = await lintProject(root);
  if (options.sarif !== undefined) {
    const file = path.resolve(options.sarif);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify(toSarif(result, { version: packageVersion() }), null, 2)}\n`);
    out.note(`SARIF written to ${options.sarif}`);
  }
  if (out.json) {
    out.printJson({ ok: !hasErrors(result.findings), files: result.files, findings: result.findings });
  } else {
    for (const line of humanLines(result)) out.print(line);
  }
  return hasErrors(result.findings) ? EXIT.failed : EXIT.ok;
}

/** `file:line:col  rule  message`, an indented fix under each, and the summary line. */
export function humanLines(result: LintResult): string[] {
  const lines: string[] = [];
  for (const finding of result.findings) {
    lines.push(`${finding.file}:${finding.line}:${finding.column}  ${finding.rule}  ${finding.severity === 'warning' ? 'warning: ' : ''}${finding.message}`);
    lines.push(`    fix: ${finding.fix}`);
  }
  lines.push(summary(result));
  return lines;
}

function summary(result: LintResult): string {
  const { findings, files } = result;
  if (findings.length === 0) return `no findings in ${files} file${files === 1 ? '' : 's'}`;
  const withFindings = new Set(findings.map((finding) => finding.file)).size;
  const warnings = findings.filter((finding: Finding) => finding.severity === 'warning').length;
  return (
    `${findings.length} finding${findings.length === 1 ? '' : 's'} in ${withFindings} file${withFindings === 1 ? '' : 's'}` +
    (warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : '')
  );
}

function packageVersion(): string | undefined {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}
