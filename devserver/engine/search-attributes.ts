import { api, decodePayloadValue, type Payload } from '../proto.js';
import type { SearchAttributeType } from '../visibility/query.js';
import { invalid } from '../errors.js';

export const SA_TYPES: readonly SearchAttributeType[] = ['Keyword', 'Text', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList'];

const IVT = api.enums.v1.IndexedValueType;
const TYPE_BY_ENUM: Record<number, SearchAttributeType> = {
  [IVT.INDEXED_VALUE_TYPE_TEXT]: 'Text',
  [IVT.INDEXED_VALUE_TYPE_KEYWORD]: 'Keyword',
  [IVT.INDEXED_VALUE_TYPE_INT]: 'Int',
  [IVT.INDEXED_VALUE_TYPE_DOUBLE]: 'Double',
  [IVT.INDEXED_VALUE_TYPE_BOOL]: 'Bool',
  [IVT.INDEXED_VALUE_TYPE_DATETIME]: 'Datetime',
  [IVT.INDEXED_VALUE_TYPE_KEYWORD_LIST]: 'KeywordList',
};

export function typeFromEnum(value: number): SearchAttributeType | undefined {
  return TYPE_BY_ENUM[value];
}

export function enumFromType(type: SearchAttributeType): number {
  return Number(Object.entries(TYPE_BY_ENUM).find(([, t]) => t === type)?.[0] ?? IVT.INDEXED_VALUE_TYPE_UNSPECIFIED);
}

/** Attributes Temporal itself sets; queryable, and accepted in upserts made by SDKs and schedules. */
export const SYSTEM_ATTRIBUTES: ReadonlyMap<string, SearchAttributeType> = new Map<string, SearchAttributeType>([
  ['TemporalChangeVersion', 'KeywordList'],
  ['BinaryChecksums', 'KeywordList'],
  ['BuildIds', 'KeywordList'],
  ['TemporalScheduledStartTime', 'Datetime'],
  ['TemporalScheduledById', 'Keyword'],
  ['TemporalSchedulePaused', 'Bool'],
  ['TemporalNamespaceDivision', 'Keyword'],
  ['TemporalWorkerDeploymentVersion', 'Keyword'],
  ['TemporalWorkerDeployment', 'Keyword'],
  ['TemporalWorkflowVersioningBehavior', 'Keyword'],
]);

/** The custom attributes a fresh namespace has, as in Temporal's own dev server. */
export const DEFAULT_CUSTOM_ATTRIBUTES: readonly [string, SearchAttributeType][] = [
  ['CustomKeywordField', 'Keyword'],
  ['CustomStringField', 'Text'],
  ['CustomTextField', 'Text'],
  ['CustomIntField', 'Int'],
  ['CustomDoubleField', 'Double'],
  ['CustomBoolField', 'Bool'],
  ['CustomDatetimeField', 'Datetime'],
];

/** Checks a value against its declared type; returns the decoded value. */
function checkValue(name: string, type: SearchAttributeType, value: unknown): unknown {
  const fail = (): never => {
    throw invalid(`search attribute ${name} is of type ${type}, but got ${JSON.stringify(value)}`);
  };
  if (value === null) return null;
  switch (type) {
    case 'Keyword':
    case 'Text':
      if (typeof value === 'string') return value;
      if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0];
      return fail();
    case 'KeywordList':
      if (typeof value === 'string') return [value];
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
      return fail();
    case 'Int':
    case 'Double': {
      const v = Array.isArray(value) && value.length === 1 ? value[0] : value;
      if (typeof v === 'number' && (type === 'Double' || Number.isInteger(v))) return v;
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
      return fail();
    }
    case 'Bool': {
      const v = Array.isArray(value) && value.length === 1 ? value[0] : value;
      if (typeof v === 'boolean') return v;
      return fail();
    }
    case 'Datetime': {
      const v = Array.isArray(value) && value.length === 1 ? value[0] : value;
      if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return v;
      return fail();
    }
  }
}

/**
 * Validates search attributes against the namespace's registry and returns them with the `type` metadata the SDK
 * reads back. A payload that decodes to null (or an empty list) means "remove".
 */
export function normalizeSearchAttributes(
  fields: Record<string, Payload> | null | undefined,
  registry: ReadonlyMap<string, SearchAttributeType>,
): Map<string, Payload | null> {
  const out = new Map<string, Payload | null>();
  for (const [name, payload] of Object.entries(fields ?? {})) {
    const type = registry.get(name) ?? SYSTEM_ATTRIBUTES.get(name);
    if (!type) {
      throw invalid(
        `search attribute ${name} is not registered in this namespace; add it with OperatorService AddSearchAttributes ` +
          `(temporal operator search-attribute create --name ${name} --type Keyword)`,
      );
    }
    const value = decodePayloadValue(payload);
    if (value === undefined) throw invalid(`search attribute ${name} has a value that is not JSON`);
    if (value === null || (Array.isArray(value) && value.length === 0)) {
      out.set(name, null);
      continue;
    }
    checkValue(name, type, value);
    out.set(
      name,
      api.common.v1.Payload.fromObject({
        metadata: { ...(payload.metadata ?? {}), type: Buffer.from(type) },
        data: payload.data,
      }),
    );
  }
  return out;
}

/** Decodes a stored attribute to the value the list-filter evaluates (Date for Datetime, arrays for KeywordList). */
export function visibilityValue(type: SearchAttributeType | undefined, payload: Payload): unknown {
  const value = decodePayloadValue(payload);
  if (value === null || value === undefined) return undefined;
  const single = Array.isArray(value) && value.length === 1 && type !== 'KeywordList' ? value[0] : value;
  if (type === 'Datetime' && typeof single === 'string') return new Date(single);
  if (type === 'KeywordList' && typeof single === 'string') return [single];
  return single;
}
