/**
 * The devserver in a process of its own, for `npm run bench -- devserver --server=child`. Started by bench/devserver.ts
 * with an IPC channel: BENCH_DATABASE_URL names the database; it answers `stats` and `stop` messages.
 */
import { performance } from 'node:perf_hooks';
import { startDevServer } from '../../devserver/index.js';
import { dbTraceSnapshot, installDbTrace } from './db-trace.js';

const databaseUrl = process.env.BENCH_DATABASE_URL;
if (!databaseUrl || !process.send) {
  process.stderr.write('devserver-child: run me from bench/devserver.ts (needs BENCH_DATABASE_URL and an IPC channel)\n');
  process.exit(2);
}
installDbTrace();
const server = await startDevServer({ port: 0, databaseUrl, log: (line) => process.stderr.write(`[devserver] ${line}\n`) });
const send = (message: unknown): void => void process.send?.(message);
send({ type: 'ready', address: server.address });

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await server.stop().catch(() => undefined);
  process.exit(0);
}

process.on('message', (message: { type?: string }) => {
  if (message.type === 'stats') {
    const cpu = process.cpuUsage();
    send({ type: 'stats', cpuMs: (cpu.user + cpu.system) / 1000, elu: performance.eventLoopUtilization(), db: dbTraceSnapshot() });
  } else if (message.type === 'stop') {
    void stop();
  }
});
process.on('disconnect', () => void stop());
