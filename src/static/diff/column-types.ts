/**
 * How a column's promised type changed, for its consumers: `same`, `widened` (every value of the old type is a value
 * of the new one, read the same way: int → bigint, varchar(20) → text, numeric(10,2) → numeric(14,2)) or `changed`
 * (anything else — text → date, timestamptz → timestamp, a scale or length reduced).
 */
export type TypeChange = 'same' | 'widened' | 'changed';

interface ParsedType {
  base: string;
  /** varchar/char length, numeric precision */
  size?: number;
  scale?: number;
}

const ALIASES: Readonly<Record<string, string>> = { int: 'integer', int4: 'integer', int2: 'smallint', int8: 'bigint', bool: 'boolean', float8: 'double precision', float4: 'real', 'character varying': 'varchar', character: 'char' };

/** Decimal digits an integer type holds. */
const INTEGER_DIGITS: Readonly<Record<string, number>> = { smallint: 5, integer: 10, bigint: 19 };
const INTEGER_RANK: Readonly<Record<string, number>> = { smallint: 1, integer: 2, bigint: 3 };
/** Integer types a floating type holds exactly (real: 24-bit mantissa, double: 53-bit). */
const FLOAT_HOLDS: Readonly<Record<string, readonly string[]>> = { real: ['smallint'], 'double precision': ['smallint', 'integer', 'real'] };

export function parseColumnType(type: string): ParsedType {
  const text = type.trim().toLowerCase().replace(/\s+/g, ' ');
  const match = /^([a-z ]+?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/.exec(text);
  if (!match) return { base: text };
  const base = ALIASES[match[1]!] ?? match[1]!;
  return { base, ...(match[2] !== undefined && { size: Number(match[2]) }), ...(match[3] !== undefined && { scale: Number(match[3]) }) };
}

export function typeChange(fromType: string, toType: string): TypeChange {
  const from = parseColumnType(fromType);
  const to = parseColumnType(toType);
  const sameShape = from.base === to.base && from.size === to.size && (from.scale ?? 0) === (to.scale ?? 0);
  if (sameShape || (isUnboundedText(from) && isUnboundedText(to))) return 'same';
  return widens(from, to) ? 'widened' : 'changed';
}

function isUnboundedText(type: ParsedType): boolean {
  return type.base === 'text' || (type.base === 'varchar' && type.size === undefined);
}

function widens(from: ParsedType, to: ParsedType): boolean {
  // strings: a longer limit, or none
  if ((from.base === 'varchar' || from.base === 'char' || from.base === 'text') && (to.base === 'varchar' || to.base === 'text')) {
    if (isUnboundedText(to)) return true;
    if (from.base === 'text' || from.size === undefined) return false;
    return to.size !== undefined && to.size >= (from.size ?? 1);
  }
  // integers: a larger integer, an exact numeric with room for every digit, a float that holds them exactly
  if (from.base in INTEGER_RANK) {
    if (to.base in INTEGER_RANK) return INTEGER_RANK[to.base]! > INTEGER_RANK[from.base]!;
    if (to.base === 'numeric') return to.size === undefined || to.size - (to.scale ?? 0) >= INTEGER_DIGITS[from.base]!;
    return FLOAT_HOLDS[to.base]?.includes(from.base) ?? false;
  }
  if (from.base === 'real' && to.base === 'double precision') return true;
  // numeric: no fewer digits before the point and none fewer after it
  if (from.base === 'numeric' && to.base === 'numeric') {
    if (to.size === undefined) return true;
    if (from.size === undefined) return false;
    const fromScale = from.scale ?? 0;
    const toScale = to.scale ?? 0;
    return toScale >= fromScale && to.size - toScale >= from.size - fromScale;
  }
  return false;
}
