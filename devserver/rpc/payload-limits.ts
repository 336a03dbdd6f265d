import { api } from '../proto.js';
import { invalid } from '../errors.js';

// Decoded messages know their type through `$type`.
const Payload: unknown = api.common.v1.Payload;

function isPayload(value: object): value is { data?: Uint8Array | null; metadata?: Record<string, Uint8Array> | null } {
  return (value as { $type?: unknown }).$type === Payload;
}

/** Throws INVALID_ARGUMENT naming the limit when any payload in the message is larger than `limit` bytes. */
export function checkPayloadSizes(message: unknown, limit: number, depth = 0): void {
  if (message === null || typeof message !== 'object' || depth > 64) return;
  if (isPayload(message)) {
    const size = (message.data?.length ?? 0) + Object.values(message.metadata ?? {}).reduce((n, v) => n + v.length, 0);
    if (size > limit) {
      throw invalid(`a payload of ${size} bytes exceeds the devserver's payload size limit of ${limit} bytes (--max-payload-bytes)`);
    }
    return;
  }
  if (ArrayBuffer.isView(message)) return;
  if (Array.isArray(message)) {
    for (const item of message) checkPayloadSizes(item, limit, depth + 1);
    return;
  }
  for (const value of Object.values(message)) checkPayloadSizes(value, limit, depth + 1);
}
