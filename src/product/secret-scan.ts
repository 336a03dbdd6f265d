import type { Problem } from './problems.js';
import { fieldPath } from './problems.js';
import { isSecretRef } from './secret.js';

/** Field names whose string values are credentials (compared lower case, without `_` and `-`, by suffix). */
const SECRET_FIELD_SUFFIXES = [
  'password',
  'passwd',
  'token',
  'apikey',
  'secret',
  'credential',
  'credentials',
  'privatekey',
  'secretkey',
  'accesskey',
  'authorization',
  'connectionstring',
  'auth',
];

/** `scheme://user:password@host` — a URL carrying a password. */
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*:[^\s/@]+@/i;

export function isSecretFieldName(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_FIELD_SUFFIXES.some((suffix) => normalized.endsWith(suffix));
}

export function containsUrlWithPassword(text: string): boolean {
  return URL_WITH_PASSWORD.test(text);
}

/** A literal credential found in a declaration: where it is and which rule found it. Never the value itself. */
export interface LiteralSecret {
  path: (string | number)[];
  reason: 'secret-field' | 'url-with-password';
  key: string;
}

/**
 * Walks a declaration (plain objects, arrays, strings) and finds literal credentials: a non-empty string in a field
 * named like password/token/apiKey/secret/credentials, or any string holding `scheme://user:pass@host`.
 * `secret('NAME')` references are fine and skipped.
 */
export function findLiteralSecrets(value: unknown): LiteralSecret[] {
  const found: LiteralSecret[] = [];
  const seen = new Set<object>();
  const walk = (node: unknown, path: (string | number)[], key: string): void => {
    if (typeof node === 'string') {
      if (containsUrlWithPassword(node)) found.push({ path, reason: 'url-with-password', key });
      else if (node.length > 0 && isSecretFieldName(key)) found.push({ path, reason: 'secret-field', key });
      return;
    }
    if (typeof node !== 'object' || node === null || isSecretRef(node) || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      node.forEach((item, index) => walk(item, [...path, index], key));
      return;
    }
    for (const [childKey, child] of Object.entries(node)) walk(child, [...path, childKey], childKey);
  };
  walk(value, [], '');
  return found;
}

/** Problems for every literal credential in `value`, for a module at `file`. */
export function literalSecretProblems(value: unknown, file?: string): Problem[] {
  return findLiteralSecrets(value).map(({ path, reason, key }) => {
    const where = fieldPath(path);
    const envName = suggestedEnvName(key, path);
    if (reason === 'url-with-password') {
      return {
        file,
        path: where,
        message: 'a connection string with a password is written in the module; credentials must never be in git',
        fix:
          `remove the user:password part from the URL and pass the credentials by reference: credentials: secret('${envName}') ` +
          `in a product, or urlEnv: '${envName}' in the config (a variable holding the whole URL); then rotate the leaked password`,
      };
    }
    return {
      file,
      path: where,
      message: `'${key}' holds a literal credential; secrets must never be written into products or the config`,
      fix: `reference it by environment variable instead: ${key}: secret('${envName}'), set ${envName} where lastmile runs, and rotate the leaked value`,
    };
  });
}

function suggestedEnvName(key: string, path: readonly (string | number)[]): string {
  const words = [...path.filter((part): part is string => typeof part === 'string').slice(-2)];
  if (words.length === 0) words.push(key || 'secret');
  const name = words
    .join('_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
  return /^[A-Z_]/.test(name) ? name : `X_${name}`;
}
