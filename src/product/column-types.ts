/** Column types a contract may promise (Postgres spellings). */
export type ColumnType =
  | 'text'
  | 'varchar'
  | `varchar(${number})`
  | 'char'
  | `char(${number})`
  | 'boolean'
  | 'smallint'
  | 'integer'
  | 'int'
  | 'bigint'
  | 'numeric'
  | `numeric(${number})`
  | `numeric(${number},${number})`
  | `numeric(${number}, ${number})`
  | 'real'
  | 'double precision'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'interval'
  | 'json'
  | 'jsonb'
  | 'uuid'
  | 'bytea';

/** Base type name → Postgres type OID (what a driver reports as `dataTypeID`). */
const BASE_TYPE_OID: Readonly<Record<string, number>> = {
  text: 25,
  varchar: 1043,
  char: 1042,
  boolean: 16,
  smallint: 21,
  integer: 23,
  int: 23,
  bigint: 20,
  numeric: 1700,
  real: 700,
  'double precision': 701,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  json: 114,
  jsonb: 3802,
  uuid: 2950,
  bytea: 17,
};

const OID_NAME: Readonly<Record<number, string>> = {
  16: 'boolean',
  17: 'bytea',
  20: 'bigint',
  21: 'smallint',
  23: 'integer',
  25: 'text',
  114: 'json',
  700: 'real',
  701: 'double precision',
  1042: 'char',
  1043: 'varchar',
  1082: 'date',
  1083: 'time',
  1114: 'timestamp',
  1184: 'timestamptz',
  1186: 'interval',
  1700: 'numeric',
  2950: 'uuid',
  3802: 'jsonb',
};

const PARAMETERIZED = /^(varchar|char|numeric)\s*\(\s*\d+\s*(?:,\s*\d+\s*)?\)$/;

/** The base type of a column type: `numeric(14,2)` → `numeric`; undefined when the type is not one lastmile knows. */
export function baseType(type: string): string | undefined {
  const normalized = type.trim().toLowerCase();
  if (normalized in BASE_TYPE_OID) return normalized;
  const match = PARAMETERIZED.exec(normalized);
  if (!match) return undefined;
  const base = match[1];
  return base === 'numeric' || normalized.split(',').length === 1 ? base : undefined;
}

export function isColumnType(type: string): boolean {
  return baseType(type) !== undefined;
}

/** Postgres type OID promised by a contract type. */
export function typeOid(type: string): number | undefined {
  const base = baseType(type);
  return base === undefined ? undefined : BASE_TYPE_OID[base];
}

/** Readable name of a Postgres type OID, e.g. 20 → `bigint`. */
export function oidName(oid: number): string {
  return OID_NAME[oid] ?? `type oid ${oid}`;
}

export const COLUMN_TYPE_HELP =
  "use a Postgres type: text, varchar(n), boolean, smallint, integer, bigint, numeric(p,s), real, double precision, date, time, timestamp, timestamptz, interval, json, jsonb, uuid or bytea";

/** Type oids of date, timestamp and timestamptz: the columns whose newest value is an age. */
export const DATE_TYPE_OIDS: ReadonlySet<number> = new Set([1082, 1114, 1184]);
