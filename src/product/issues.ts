import { z } from 'zod';
import type { Problem } from './problems.js';
import { fieldPath } from './problems.js';
import { didYouMean, listOf } from '../text/suggest.js';

/**
 * Schema messages carry both halves of a problem, "what is wrong" and "how to fix it", joined by this separator.
 * `{field}` in either half is replaced by the field's name.
 */
const FIX = '\u241E';
const KNOWN_KEYS = '\u241Fknown:';

/** A schema message: what is wrong, and how to fix it. */
export function say(what: string, fix: string): string {
  return `${what}${FIX}${fix}`;
}

/** Short, safe rendering of a value people wrote (never long, never multi-line). */
export function shown(value: unknown): string {
  if (typeof value === 'string') {
    const text = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `'${text.replace(/\s+/g, ' ')}'`;
  }
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function typeName(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${shown(value)}`;
}

/**
 * Error options for a field: when it is missing or has the wrong type, the problem says what belongs there.
 * `hint` is written as it would appear in code, e.g. `'1.0.0'`.
 */
export function expects(hint: string): { error: (issue: z.core.$ZodRawIssue) => string | undefined } {
  return {
    error: (issue) => {
      if (issue.code !== 'invalid_type') return undefined;
      if (issue.input === undefined) return say(`'{field}' is missing`, `add {field}: ${hint}`);
      const fix =
        typeof issue.input === 'function'
          ? `call the builder instead of passing it (e.g. check.notNull('id'), files({...})), so {field} is ${hint}`
          : `write {field} as ${hint}`;
      return say(`'{field}' should be ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}, but it is ${typeName(issue.input)}`, fix);
    },
  };
}

/**
 * Error options for a discriminated union (targets, checks, sources, destinations): names the unknown variant, or says
 * what the value is when it is not an object at all.
 */
export function variant(noun: string, discriminator: string, fix: string, missing?: (issue: z.core.$ZodRawIssue) => string | undefined) {
  return {
    error: (issue: z.core.$ZodRawIssue): string | undefined => {
      const code: string = issue.code;
      const input = issue.input;
      if (code === 'invalid_type') {
        if (input === undefined) return missing?.(issue) ?? say(`'{field}' is missing`, fix);
        if (typeof input === 'function') return say(`'{field}' is a function, not ${noun}`, `call it; ${fix}`);
        return say(`'{field}' is ${typeName(input)}, not ${noun}`, fix);
      }
      if (code === 'invalid_union') {
        const value = typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[discriminator] : undefined;
        return value === undefined
          ? say(`'{field}' has no '${discriminator}', so it is not ${noun}`, fix)
          : say(`${shown(value)} is not a known ${discriminator} of ${noun}`, fix);
      }
      return undefined;
    },
  };
}

/** A strict object: unknown fields (typos) are problems that suggest the field meant. */
export function strict<Shape extends z.ZodRawShape>(shape: Shape, hint?: string) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') return `${KNOWN_KEYS}${known.join(',')}`;
      if (issue.code === 'invalid_type' && hint) return expects(hint).error(issue);
      return undefined;
    },
  });
}

/** Turns zod issues into problems, one per field (one per unknown key). */
export function issuesToProblems(issues: readonly z.core.$ZodIssue[], file?: string): Problem[] {
  return issues.flatMap((issue) => issueToProblems(issue, file));
}

function issueToProblems(issue: z.core.$ZodIssue, file: string | undefined): Problem[] {
  const path = issue.path.map((segment) => (typeof segment === 'symbol' ? segment.toString() : segment));
  if (issue.code === 'unrecognized_keys') {
    const known = issue.message.startsWith(KNOWN_KEYS) ? issue.message.slice(KNOWN_KEYS.length).split(',') : [];
    return issue.keys.map((key) => ({
      file,
      path: fieldPath([...path, key]),
      message: `unknown field '${key}'`,
      fix: `${didYouMean(key, known)}${known.length > 0 ? `The fields allowed here are ${listOf(known, 'and')}` : 'Remove it'}.`,
    }));
  }
  if (issue.code === 'invalid_key') {
    const inner = issue.issues[0];
    const message = inner?.message ?? issue.message;
    return [make(file, path, message, `rename the key ${shown(path[path.length - 1])}`)];
  }
  return [make(file, path, issue.message, fallbackFix(issue))];
}

function make(file: string | undefined, path: readonly (string | number)[], message: string, fix: string): Problem {
  const field = lastName(path);
  const [what, how] = message.includes(FIX) ? message.split(FIX, 2) : [message, fix];
  const fill = (text: string) => text.replaceAll('{field}', field);
  return { file, path: fieldPath(path), message: fill(what), fix: fill(how) };
}

/** The field's name as people say it: `version`, or `checks[3]` for an element of a list. */
function lastName(path: readonly (string | number)[]): string {
  let end = path.length;
  while (end > 0 && typeof path[end - 1] === 'number') end--;
  return end === 0 ? 'value' : fieldPath(path.slice(end - 1));
}

function fallbackFix(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `use one of ${listOf(issue.values.map(String))}`;
    case 'invalid_type':
      return `write a ${issue.expected}`;
    case 'too_small':
      return `use at least ${String(issue.minimum)}`;
    case 'too_big':
      return `use at most ${String(issue.maximum)}`;
    case 'invalid_union':
      return 'use one of the forms the field accepts';
    default:
      return 'correct the value';
  }
}
