/**
 * SQL errors no retry can fix: data exceptions (SQLSTATE 22…, e.g. division by zero), integrity violations (23…, e.g.
 * a unique key that is not unique) and syntax or access errors (42…, e.g. an unknown column).
 */
export function isPermanentSqlError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|42)/.test(code);
}
