/**
 * Records the histories the replay test (test/replay/replay.test.ts) replays: every example product run once in dev
 * on the embedded runtime (devserver, embedded PostgreSQL, the real worker), then the history of every workflow those
 * runs started — serveProduct, its children of each kind, the SLO monitors — written to test/replay/histories/.
 *
 *   npx tsx test/replay/record-histories.ts
 *
 * Record again only on purpose: when a workflow's shape changes *with* `patched()`, add the new histories beside the
 * old ones (the old ones must keep replaying); never re-record to make a failing replay pass.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import protoPkg from '@temporalio/proto';

const { temporal } = protoPkg;
import { runResult, startRun } from '../../src/runtime/session.js';
import { startRuntime } from '../support/runtime-harness.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const OUT = path.join(REPO, 'test', 'replay', 'histories');
const label = process.argv[2] ?? new Date().toISOString().slice(0, 10);

const products: Record<string, string> = {};
for (const file of (await readdir(path.join(REPO, 'products'))).filter((f) => f.endsWith('.ts'))) {
  products[file.replace(/\.ts$/, '')] = await readFile(path.join(REPO, 'products', file), 'utf8');
}
const config = await readFile(path.join(REPO, 'lastmile.config.ts'), 'utf8');
const rt = await startRuntime({ products, config });
try {
  for (const name of Object.keys(products).sort()) {
    const summary = await runResult(await startRun(rt.session, rt.product(name)));
    process.stdout.write(`${name}: ${summary.status}\n`);
  }
  await mkdir(OUT, { recursive: true });
  let written = 0;
  for await (const execution of rt.session.client.workflow.list()) {
    const history = await rt.session.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const file = `${label}-${execution.type}-${execution.workflowId.replace(/[^A-Za-z0-9_-]+/g, '_').slice(-60)}.json`;
    // proto3 objects with int64 and bytes as strings: readable, and `History.fromObject` gives the history back
    const json = temporal.api.history.v1.History.toObject(temporal.api.history.v1.History.fromObject(history), { longs: String, enums: String, bytes: String });
    await writeFile(path.join(OUT, file), `${JSON.stringify({ workflowId: execution.workflowId, type: execution.type, history: json }, null, 1)}\n`);
    written += 1;
    process.stdout.write(`  ${execution.type} ${execution.status.name}: ${file} (${history.events?.length ?? 0} events)\n`);
  }
  process.stdout.write(`${written} histories in ${path.relative(REPO, OUT)}\n`);
} finally {
  await rt.close();
}
