/**
 * OpenLineage run events of lastmile's runs (docs/lineage.md): built from the run as recorded (`event.ts`, named by
 * `datasets.ts`), written to the outbox with the run (`record.ts`, `outbox.ts`), and delivered in order by each
 * environment's delivery workflow (`deliver.ts`, `start.ts`).
 */
export type { Facet, Facets, LineageDataset, LineageEventRecord, LineageEventType, RunEvent } from './types.js';
export { LINEAGE_EVENT_TYPES } from './types.js';
export { LINEAGE_ENDPOINT, lineageOf, receiverLabel, type ResolvedLineage } from './config.js';
export { inputDatasets, postgresLocation, productDataset, schemaFacet, targetDatasets, warehouseLocation, type NamingContext, type WarehouseLocation } from './datasets.js';
export { eventTypeOf, runEvent, type RunEventInput } from './event.js';
export { FACET_SCHEMA_URLS, LASTMILE_VERSION, PRODUCER, RUN_EVENT_SCHEMA_URL } from './producer.js';
export { lineageRunId } from './run-id.js';
export { deliverPending, listLineageEvents, recordLineageEvent, type DeliveryProgress, type SendOutcome } from './outbox.js';
export { idempotencyKey, sendLineageEvent, type SendOptions } from './deliver.js';
export { recordRunLineage, type RecordRunLineageInput } from './record.js';
export { lineageDeliveryId, lineageDeliveryStartOptions, signalLineageDelivery } from './start.js';
