/** Names of products, targets, checks and metrics: lower snake_case, at most 63 characters (a Postgres identifier). */
export const SNAKE_CASE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
export const MAX_NAME_LENGTH = 63;

export function isSnakeCase(name: string): boolean {
  return SNAKE_CASE.test(name) && name.length <= MAX_NAME_LENGTH;
}

/** The closest snake_case spelling of a name, for fix suggestions. */
export function toSnakeCase(name: string): string {
  const snake = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^[^A-Za-z]+|_+$/g, '')
    .toLowerCase();
  return (snake || 'name').slice(0, MAX_NAME_LENGTH);
}

/** Semantic versions (semver.org, 2.0.0). */
export const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** `major.minor.patch` with an optional `-prerelease` and `+build`. */
export type SemVer = `${number}.${number}.${number}` | `${number}.${number}.${number}-${string}` | `${number}.${number}.${number}+${string}`;

/** A plain SQL identifier part (schema, table, column in a reference): letters, digits, `_` and `$`. */
export const SQL_NAME = /^[A-Za-z_][A-Za-z0-9_$]*$/;
