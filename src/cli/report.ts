/**
 * How a command's error reaches the person or program that ran it. The error's type picks the kind and the exit
 * code: a wrong command line (`UsageError`) exits 2, invalid products or config (`ValidationError`) 1, something
 * unavailable (`UnavailableError`: warehouse, Temporal, a variable) 3, anything else 1. Text goes to stderr as one
 * paragraph (every problem, for invalid products); with --json, stdout gets ONE object instead:
 * `{"error": {"kind", "message", "problems"?}, "exitCode"}`.
 */
import { UnavailableError } from '../errors.js';
import { formatProblems, ValidationError, type Problem } from '../product/problems.js';
import { CommandFailure, EXIT, UsageError } from './exit-codes.js';

export type ErrorKind = 'usage' | 'validation' | 'unavailable' | 'failed';

export interface ErrorReport {
  kind: ErrorKind;
  message: string;
  problems?: readonly Problem[];
  exitCode: number;
}

/** What an error means for the command line: its kind, message and exit code. */
export function classifyError(error: unknown, cwd: string = process.cwd()): ErrorReport {
  if (error instanceof ValidationError) {
    return { kind: 'validation', message: formatProblems(error.problems, { cwd }), problems: error.problems, exitCode: EXIT.failed };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof UsageError) return { kind: 'usage', message, exitCode: EXIT.usage };
  if (error instanceof UnavailableError) return { kind: 'unavailable', message, exitCode: EXIT.environment };
  return { kind: 'failed', message, exitCode: EXIT.failed };
}

/** Prints `error` as the command line shows it and returns the exit code. */
export function reportError(error: unknown, options: { json: boolean; debug: boolean }): number {
  const report = classifyError(error);
  const stack = options.debug && error instanceof Error && error.stack ? `${error.stack}\n` : '';
  if (options.json) {
    const body = { kind: report.kind, message: report.message, ...(report.problems && { problems: report.problems }) };
    process.stdout.write(`${JSON.stringify({ error: body, exitCode: report.exitCode })}\n`);
    if (stack) process.stderr.write(stack);
    return report.exitCode;
  }
  if (report.kind === 'validation') {
    process.stderr.write(`${report.message}\n`);
  } else {
    process.stderr.write(`lastmile: ${report.message}\n`);
    // usage errors and failures lastmile explains fully have no stack worth offering
    const explained = report.kind === 'usage' || error instanceof CommandFailure;
    if (stack) process.stderr.write(stack);
    else if (!explained) process.stderr.write('(run again with --debug for the stack trace)\n');
  }
  return report.exitCode;
}
