/**
 * The parts of an OpenLineage 2-0-2 RunEvent that lastmile writes (https://openlineage.io/spec/2-0-2/OpenLineage.json),
 * and the records of the outbox (`lastmile.lineage_events`).
 */
import type { JsonValue } from '../meta/types.js';

export const LINEAGE_EVENT_TYPES = ['START', 'COMPLETE', 'FAIL', 'ABORT'] as const;
/** START when a run begins; COMPLETE when it delivered; FAIL when it failed, was blocked or delivered in part; ABORT when it was canceled. */
export type LineageEventType = (typeof LINEAGE_EVENT_TYPES)[number];

/** Every facet carries who wrote it and the schema it follows. */
export interface Facet {
  readonly _producer: string;
  readonly _schemaURL: string;
  readonly [field: string]: JsonValue | undefined;
}

export type Facets = Readonly<Record<string, Facet>>;

export interface LineageDataset {
  readonly namespace: string;
  readonly name: string;
  readonly facets?: Facets;
  readonly outputFacets?: Facets;
}

export interface RunEvent {
  readonly eventType: LineageEventType;
  readonly eventTime: string;
  readonly producer: string;
  readonly schemaURL: string;
  readonly run: { readonly runId: string; readonly facets?: Facets };
  readonly job: { readonly namespace: string; readonly name: string; readonly facets?: Facets };
  readonly inputs: readonly LineageDataset[];
  readonly outputs: readonly LineageDataset[];
}

/** One event in the outbox. */
export interface LineageEventRecord {
  eventId: number;
  env: string;
  /** lastmile's run id (the Temporal run id of serveProduct) */
  runId: string;
  eventType: LineageEventType;
  payload: RunEvent;
  createdAt: Date;
  attempts: number;
  lastAttemptAt: Date | null;
  /** why the last attempt failed (never a secret); null once delivered */
  lastError: string | null;
  deliveredAt: Date | null;
  /** the receiver refused the event for good (HTTP 400/413/422): it is not sent again */
  rejectedAt: Date | null;
}
