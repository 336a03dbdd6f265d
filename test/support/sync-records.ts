/**
 * The records of the stand-in destination (test/support/sync-server.ts) and what each operation does to them:
 * insert creates (rejected when present), update merges fields into a present record (rejected when absent), upsert
 * creates or merges, delete removes (unchanged when absent); sending only fields already held as sent is `unchanged`.
 */
export type SyncOpName = 'insert' | 'update' | 'upsert' | 'delete';
export type KeyValue = string | number | boolean | null;
export interface Operation {
  op: SyncOpName;
  key: Record<string, KeyValue>;
  record: Record<string, unknown> | null;
  id?: string;
}
export interface Result {
  index: number;
  status: 'applied' | 'unchanged' | 'rejected' | 'transient';
  reason?: string;
  id?: string;
}
export interface StoredRecord {
  key: Record<string, KeyValue>;
  record: Record<string, unknown>;
  /** the server's id of the record, reported in results */
  id: string;
}

const OPS: readonly string[] = ['insert', 'update', 'upsert', 'delete'];

/** The key's identity: its fields sorted, so `{a, b}` and `{b, a}` name one record. */
export function keyId(key: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(key).sort().map((field) => [field, key[field]]));
}

/** JSON with object fields sorted, for comparing values. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object).sort().map((field) => `${JSON.stringify(field)}:${canonical(object[field])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The body's operations, or the reason it is malformed. */
export function parseOperations(body: unknown, headerKey: string): Operation[] | string {
  if (!isObject(body)) return 'the body is not a JSON object';
  if (body.idempotencyKey !== headerKey) return 'idempotencyKey does not match the Idempotency-Key header';
  if (typeof body.batch !== 'number') return 'batch is not a number';
  if (!Array.isArray(body.operations)) return 'operations is not a list';
  for (const [index, op] of (body.operations as unknown[]).entries()) {
    if (!isObject(op)) return `operation ${index} is not an object`;
    if (typeof op.op !== 'string' || !OPS.includes(op.op)) return `operation ${index}: unknown op ${JSON.stringify(op.op)}`;
    if (!isObject(op.key) || Object.keys(op.key).length === 0) return `operation ${index}: key is not a non-empty object`;
    if (Object.values(op.key).some((value) => typeof value === 'object' && value !== null)) return `operation ${index}: key values must be scalars`;
    if (!(isObject(op.record) || (op.op === 'delete' && op.record === null))) return `operation ${index}: record is not an object`;
    if (op.id !== undefined && typeof op.id !== 'string') return `operation ${index}: id is not a string`;
  }
  return body.operations as Operation[];
}

export class SyncRecords {
  private readonly held = new Map<string, StoredRecord>();
  private nextId = 1;

  /** The records held, in the order they were created. */
  list(): StoredRecord[] {
    return [...this.held.values()].map((held) => ({ key: held.key, record: held.record, id: held.id }));
  }

  apply(op: Operation, index: number): Result {
    const id = keyId(op.key);
    const held = this.held.get(id);
    if (held && op.id !== undefined && op.id !== held.id) return { index, status: 'rejected', reason: `id ${op.id} is not this record's (${held.id})` };
    if (op.op === 'delete') {
      if (!held) return { index, status: 'unchanged' };
      this.held.delete(id);
      return { index, status: 'applied', id: held.id };
    }
    const record = op.record ?? {};
    if (op.op === 'insert' && held) return { index, status: 'rejected', reason: 'already exists', id: held.id };
    if (op.op === 'update' && !held) return { index, status: 'rejected', reason: 'no such record' };
    if (!held) {
      const created = { key: { ...op.key }, record: { ...record }, id: `rec_${this.nextId++}` };
      this.held.set(id, created);
      return { index, status: 'applied', id: created.id };
    }
    if (Object.keys(record).every((field) => Object.hasOwn(held.record, field) && canonical(held.record[field]) === canonical(record[field]))) {
      return { index, status: 'unchanged', id: held.id };
    }
    held.record = { ...held.record, ...record };
    return { index, status: 'applied', id: held.id };
  }
}
