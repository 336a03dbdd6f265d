import path from 'node:path';

/** One thing wrong with a product or config module: where it is, what is wrong, and how to fix it. */
export interface Problem {
  /** Absolute path of the module the problem is in, when it comes from a file. */
  file?: string;
  /** Field path inside the module's default export, e.g. `serve[1].schedule.cron`; empty for the whole module. */
  path: string;
  /** What is wrong, in one or two sentences. */
  message: string;
  /** How to fix it. */
  fix: string;
  /** Name of the product the problem belongs to, when known. */
  product?: string;
  /** Name of the serving target the problem belongs to, when known. */
  target?: string;
}

/** Thrown when products or the config are invalid; carries every problem found, not only the first. */
export class ValidationError extends Error {
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[], options: { cwd?: string } = {}) {
    super(formatProblems(problems, options));
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

/** Shows `file` relative to `cwd` when it is inside it. */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  const relative = path.relative(cwd, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/** One paragraph: where (file, field, product, target), what is wrong, how to fix it. */
export function formatProblem(problem: Problem, options: { cwd?: string } = {}): string {
  const where = [problem.file ? displayPath(problem.file, options.cwd) : undefined, problem.path || undefined]
    .filter((part): part is string => part !== undefined)
    .join(', ');
  const about = [
    problem.product ? `product ${problem.product}` : undefined,
    problem.target ? `target ${problem.target}` : undefined,
  ].filter((part): part is string => part !== undefined);
  const heading = `${where || 'configuration'}${about.length > 0 ? ` (${about.join(', ')})` : ''}`;
  const message = problem.message.trim().replace(/\s+$/, '');
  const fix = problem.fix.trim();
  return `${heading}: ${withPeriod(message)}${fix ? ` Fix: ${withPeriod(fix)}` : ''}`;
}

/** Every problem as its own paragraph, with a count on top. */
export function formatProblems(problems: readonly Problem[], options: { cwd?: string } = {}): string {
  if (problems.length === 0) return 'No problems found.';
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return [`${count} found:`, ...problems.map((problem) => formatProblem(problem, options))].join('\n\n');
}

function withPeriod(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** Renders a field path array the way people write it: `serve[1].schedule.cron`. */
export function fieldPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'symbol') out += `[${segment.toString()}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Sorts problems by file, then by their order of discovery within a file (stable). */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) => (a.problem.file ?? '').localeCompare(b.problem.file ?? '') || a.index - b.index)
    .map(({ problem }) => problem);
}
