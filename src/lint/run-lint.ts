/**
 * `lintProject(root)`: reads products/, lastmile.config.ts and workflows/ as source text (ts-morph, no type
 * checking, nothing imported or run), applies the rules of each file's role, then the suppression comments.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Project, ScriptKind, type SourceFile } from 'ts-morph';
import { ruleInfo } from './catalog.js';
import { lintFiles, type LintFile } from './files.js';
import { credentialFindings } from './rules/credentials.js';
import { determinismFindings } from './rules/determinism.js';
import { sideEffectFindings } from './rules/side-effects.js';
import { applySuppressions } from './suppressions.js';
import type { Finding, LintResult, RawFinding } from './types.js';

export async function lintProject(root: string): Promise<LintResult> {
  const absoluteRoot = path.resolve(root);
  const files = await lintFiles(absoluteRoot);
  const project = new Project({ useInMemoryFileSystem: true, skipLoadingLibFiles: true, compilerOptions: { allowJs: true } });
  const findings: Finding[] = [];
  for (const file of files) {
    const text = await readFile(file.absolutePath, 'utf8');
    findings.push(...lintText(project, file, text, absoluteRoot));
  }
  findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule));
  return { findings, files: files.length };
}

function lintText(project: Project, file: LintFile, text: string, root: string): Finding[] {
  const source = project.createSourceFile(`/${file.file}`, text, { overwrite: true, scriptKind: scriptKindOf(file.file) });
  try {
    const { kept, unused } = applySuppressions(rawFindings(source, file, root), text);
    return [...kept, ...unused].map((raw) => ({ file: file.file, ...raw, severity: ruleInfo(raw.rule).severity }));
  } finally {
    project.removeSourceFile(source);
  }
}

function rawFindings(source: SourceFile, file: LintFile, root: string): RawFinding[] {
  switch (file.role) {
    case 'config':
      return credentialFindings(source);
    case 'product':
      return [...credentialFindings(source), ...sideEffectFindings(source)];
    case 'workflow':
      return determinismFindings(source, { absolutePath: file.absolutePath, workflowsDir: path.join(root, 'workflows') });
  }
}

function scriptKindOf(file: string): ScriptKind {
  return /\.[cm]?js$/.test(file) ? ScriptKind.JS : ScriptKind.TS;
}

/** True when a finding of severity error is among `findings` (the command then exits 1). */
export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((finding) => finding.severity === 'error');
}
