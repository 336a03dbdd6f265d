/**
 * The devserver on a worker thread of the bench process, for `npm run bench -- devserver --server=thread`: what
 * lastmile could do to keep the devserver's gRPC/engine work off the main event loop that the Temporal worker and
 * client share, without a second process. Started by bench/devserver.ts; workerData.databaseUrl names the database;
 * it answers `stats` and `stop` messages on parentPort.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { startDevServer } from '../../devserver/index.js';
import { dbTraceSnapshot, installDbTrace } from './db-trace.js';

const port = parentPort;
if (!port) throw new Error('devserver-thread: run me as a worker thread');
const { databaseUrl, verbose } = workerData as { databaseUrl: string; verbose: boolean };
installDbTrace();
const server = await startDevServer({ port: 0, databaseUrl, log: verbose ? (line) => process.stderr.write(`[devserver] ${line}\n`) : () => undefined });
port.postMessage({ type: 'ready', address: server.address });
port.on('message', (message: { type?: string }) => {
  if (message.type === 'stats') {
    const cpu = process.cpuUsage();
    port.postMessage({ type: 'stats', cpuMs: (cpu.user + cpu.system) / 1000, elu: performance.eventLoopUtilization(), db: dbTraceSnapshot() });
  } else if (message.type === 'stop') {
    void server.stop().finally(() => {
      port.postMessage({ type: 'stopped' });
      port.close();
    });
  }
});
