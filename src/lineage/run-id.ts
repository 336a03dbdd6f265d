/**
 * OpenLineage run ids are UUIDs. lastmile's run id (the Temporal run id of serveProduct) is mapped to one the way a
 * name-based UUID (RFC 9562 version 5) is: SHA-1 over a namespace UUID of lastmile's and the run id, with the version
 * and variant bits set — the same UUID for every event of the run, on every worker, with nothing stored.
 */
import { createHash } from 'node:crypto';

/** The namespace UUID of lastmile run ids (fixed once; changing it would give every run a new lineage id). */
const LASTMILE_RUNS = Buffer.from('6c1d9a4e2f0b4c7d8e3a5b6c7d8e9f01', 'hex');

export function lineageRunId(runId: string): string {
  const hash = createHash('sha1').update(LASTMILE_RUNS).update(runId, 'utf8').digest().subarray(0, 16);
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
