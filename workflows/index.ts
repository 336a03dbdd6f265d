/** Every workflow the lastmile worker registers. Workflow code only: deterministic, no I/O. */
export { serveProduct } from './serve-product.js';
export { sloMonitor, runFinishedSignal } from './slo-monitor.js';
export { fileExchange } from './file-exchange.js';
export { dashboardRefresh } from './dashboard-refresh.js';
