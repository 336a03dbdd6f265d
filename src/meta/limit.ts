/** A query's row limit: the fallback when none is given, at most 1000; anything but a positive integer is refused. */
export function clampLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer; got ${String(limit)}.`);
  return Math.min(limit, 1000);
}
