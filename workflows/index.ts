/** Every workflow the lastmile worker registers. Workflow code only: deterministic, no I/O. */
export { serveProduct } from './serve-product.js';
export { sloMonitor, runFinishedSignal } from './slo-monitor.js';
export { fileExchange } from './file-exchange.js';
export { dashboardRefresh } from './dashboard-refresh.js';
export { dataSharing } from './data-sharing.js';
export { shareExpiry, sharesChangedSignal } from './share-expiry.js';
export { reverseEtlSync, approveSyncSignal, rejectSyncSignal } from './reverse-etl.js';
export { lineageDelivery, lineageRecordedSignal } from './lineage-delivery.js';
