/**
 * Where an environment writes what a product declares. Environments never cross: a product names one place (its
 * production place), and each environment resolves it to its own —
 *  - an entry of the environment's `destinations` whose key starts the declared place: that prefix is replaced
 *    (the longest key wins), e.g. `'s3://exchange/'` → `'s3://exchange-test/'`;
 *  - otherwise the production environment (the last in `promotion`) uses the declared place itself;
 *  - otherwise the environment's own folder, `.lastmile/<env>/`: a folder `./exchange/invoices` becomes
 *    `.lastmile/<env>/exchange/invoices`, a bucket `s3://exchange/quality/` a local stand-in
 *    `.lastmile/<env>/s3/exchange/quality/`, and a remote service (a BI tool's URL) is not called at all.
 */
import path from 'node:path';
import type { ResolvedEnvironment } from './resolve.js';

export interface Place {
  /** where to write: a folder relative to the project root, an s3:// URL or an http(s) URL */
  to: string;
  /** `declared`: the product's own place (production); `mapped`: by `destinations`; `own`: the environment's own folder */
  how: 'declared' | 'mapped' | 'own';
  /** for `own`: the declared place was a remote one (bucket, service) that the environment must not reach */
  standIn: boolean;
}

const REMOTE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The environment's place for a declared one. */
export function placeOf(env: Pick<ResolvedEnvironment, 'name' | 'production' | 'destinations'>, declared: string): Place {
  // folders compare as normalized paths (`./exchange` starts `exchange/invoices`), URLs as written
  const comparable = normalizeFolder(declared);
  const key = Object.keys(env.destinations)
    .filter((prefix) => startsAtBoundary(comparable, normalizeFolder(prefix)))
    .sort((a, b) => normalizeFolder(b).length - normalizeFolder(a).length)[0];
  if (key !== undefined) {
    const rest = comparable.slice(normalizeFolder(key).length);
    return { to: joinPlace(env.destinations[key]!, rest), how: 'mapped', standIn: false };
  }
  if (env.production) return { to: declared, how: 'declared', standIn: false };
  const remote = REMOTE.exec(declared);
  if (remote) {
    const scheme = remote[0].slice(0, -3).toLowerCase();
    const rest = declared.slice(remote[0].length);
    return { to: ownFolder(env.name, path.posix.join(scheme, safeSegments(rest))), how: 'own', standIn: true };
  }
  return { to: ownFolder(env.name, safeSegments(declared)), how: 'own', standIn: false };
}

/** `.lastmile/<env>/<relative>`, as a folder relative to the project root. */
function ownFolder(env: string, relative: string): string {
  return `./${path.posix.join('.lastmile', env, relative)}`;
}

/** A declared folder or URL rest as path segments that stay inside a folder (no `..`, no root, no empty parts). */
function safeSegments(text: string): string {
  return text
    .split(/[\\/]+/)
    .filter((segment) => segment !== '' && segment !== '.' && segment !== '..')
    .map((segment) => segment.replace(/[^A-Za-z0-9._=-]/g, '_'))
    .join('/');
}

/** `text` starts with `prefix` at a path boundary: `s3://exchange` starts `s3://exchange/x`, not `s3://exchange2/x`. */
function startsAtBoundary(text: string, prefix: string): boolean {
  return text.startsWith(prefix) && (prefix.endsWith('/') || text.length === prefix.length || text[prefix.length] === '/');
}

function normalizeFolder(text: string): string {
  if (REMOTE.test(text)) return text;
  const normal = path.posix.normalize(text.replace(/\\/g, '/')).replace(/^\.\//, '');
  return normal.endsWith('/') ? normal : `${normal}/`;
}

function joinPlace(base: string, rest: string): string {
  if (rest === '') return base;
  return base.endsWith('/') || rest.startsWith('/') ? `${base}${rest}` : `${base}/${rest}`;
}
