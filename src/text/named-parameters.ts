/**
 * `:name` parameters in a SQL predicate written by a user (a share's `rowFilter: { where }`): found outside string
 * literals and quoted identifiers, and never in a `::type` cast.
 */
const TOKENS = /('(?:[^']|'')*')|("(?:[^"]|"")*")|(?<!:):([A-Za-z_][A-Za-z0-9_]*)/g;

/** The names used, in order of appearance (repeats kept). */
export function namedParameters(sql: string): string[] {
  return [...sql.matchAll(TOKENS)].flatMap((match) => (match[3] !== undefined ? [match[3]] : []));
}

/** The predicate with each `:name` replaced by `value(name)` (which quotes it). */
export function replaceNamedParameters(sql: string, value: (name: string) => string): string {
  return sql.replace(TOKENS, (match, single: string | undefined, double: string | undefined, name: string | undefined) =>
    single !== undefined || double !== undefined || name === undefined ? match : value(name),
  );
}
