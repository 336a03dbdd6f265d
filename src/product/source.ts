/**
 * A reference to a warehouse table or view by its logical name, `schema.table`. The logical schema is mapped to
 * the physical one of each environment (`marts` → `marts_test`), so the same product runs everywhere.
 */
export interface TableRef {
  readonly kind: 'table';
  readonly schema: string;
  readonly name: string;
}

/** A SQL query whose table names are `table()` placeholders: the text between them is kept verbatim. */
export interface SqlSource {
  readonly kind: 'sql';
  /** The literal SQL text around the placeholders; always one more part than `tables`. */
  readonly parts: readonly string[];
  readonly tables: readonly TableRef[];
}

/** Where a product's rows come from: a table/view, or a query. */
export type Source = TableRef | SqlSource;

/** Logical schema name → physical schema name in one environment. Schemas missing from the map keep their name. */
export type SchemaMap = Readonly<Record<string, string>>;

/** `table('marts.returns_weekly')` */
export function table<const Name extends `${string}.${string}`>(qualifiedName: Name): TableRef {
  // Without a dot the schema is empty, which validation reports ("write table('schema.table')").
  const dot = qualifiedName.indexOf('.');
  return dot < 0
    ? { kind: 'table', schema: '', name: qualifiedName }
    : { kind: 'table', schema: qualifiedName.slice(0, dot), name: qualifiedName.slice(dot + 1) };
}

/** sql`select supplier_id, week from ${table('marts.returns_weekly')}` — interpolate only `table()` references. */
export function sql(strings: TemplateStringsArray, ...tables: TableRef[]): SqlSource {
  return { kind: 'sql', parts: [...strings], tables };
}

export function isTableRef(value: unknown): value is TableRef {
  const candidate = value as Partial<TableRef> | null;
  return (
    typeof value === 'object' &&
    candidate !== null &&
    candidate.kind === 'table' &&
    typeof candidate.schema === 'string' &&
    typeof candidate.name === 'string'
  );
}

/**
 * The text of a source with every table placeholder replaced by what `nameOf` writes for it; a table source is
 * `select * from` its name. A trailing semicolon is dropped, so the text nests as a subquery.
 */
export function renderSource(source: Source, nameOf: (ref: TableRef) => string): string {
  if (source.kind === 'table') return `select * from ${nameOf(source)}`;
  let text = source.parts[0] ?? '';
  source.tables.forEach((ref, index) => {
    text += nameOf(ref) + (source.parts[index + 1] ?? '');
  });
  return text.trim().replace(/;\s*$/, '');
}

/** A readable logical name, `marts.returns_weekly`. */
export function tableName(ref: TableRef): string {
  return `${ref.schema}.${ref.name}`;
}
