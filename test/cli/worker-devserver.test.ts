/**
 * The long-running commands: `lastmile devserver` (the embedded Temporal server alone) and `lastmile worker`, each
 * as its own process, stopped with SIGINT / SIGTERM; and how the CLI finds Temporal — TEMPORAL_ADDRESS first, then a
 * `temporal` executable on PATH (`temporal server start-dev`). The embedded default is covered by dev-once.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runKeyOf, runSearchAttributes, workflowId } from '../../src/temporal/names.js';
import type { RunSummary, ServeProductInput } from '../../workflows/types.js';
import {
  cliEnv,
  createCliProject,
  freePort,
  killStrays,
  portAnswers,
  runCli,
  spawnCli,
  startProjectServices,
  writeFakeTemporal,
  type CliProcess,
  type CliProject,
  type ProjectServices,
} from '../support/cli.js';

/** Starts one run of `product` the way `lastmile run` does, from this (test) process. */
async function startServeProduct(client: Client, product: string, owner: string) {
  const runKey = runKeyOf(new Date(), Math.random().toString(36).slice(2));
  const input: ServeProductInput = { env: 'dev', product, trigger: 'manual', runKey };
  return await client.workflow.start('serveProduct', {
    taskQueue: 'lastmile-dev',
    workflowId: workflowId('dev', product, 'all', runKey),
    args: [input],
    typedSearchAttributes: runSearchAttributes({ product, env: 'dev', target: 'all', owner }),
  });
}

/** Identities of the workers that completed the workflow's tasks. */
async function workflowTaskIdentities(client: Client, id: string): Promise<string[]> {
  const history = await client.workflow.getHandle(id).fetchHistory();
  return [...new Set((history.events ?? []).flatMap((e) => (e.workflowTaskCompletedEventAttributes?.identity ? [e.workflowTaskCompletedEventAttributes.identity] : [])))];
}

describe('lastmile devserver and worker', () => {
  let project: CliProject;
  let services: ProjectServices;
  let fakeDir: string;
  let fakeTemporal: string;
  let devserver: CliProcess;
  let address: string;
  let connection: Connection;
  let client: Client;

  beforeAll(async () => {
    project = await createCliProject();
    // The project's warehouse, held by the test: every CLI process below reuses it.
    services = await startProjectServices(project);
    await services.pg.ensureDatabase('temporal_cli');
    fakeDir = path.join(project.root, 'fake-bin');
    fakeTemporal = await writeFakeTemporal(fakeDir, services.pg.urlFor('temporal_cli'));
  }, 120_000);

  afterEach(async () => {
    // Long-running children are stopped by the tests; a failed test leaves them to this. The devserver is shared
    // by the tests up to the one that stops it.
    await killStrays([devserver]);
  });

  afterAll(async () => {
    await connection?.close().catch(() => undefined);
    await killStrays();
    await services?.stop();
    await project?.remove();
  });

  it('devserver --port <free> prints its address and answers a Temporal client', async () => {
    const port = await freePort();
    devserver = spawnCli(['devserver', '--port', String(port), '--root', project.root]);
    await devserver.waitFor(/listening on[^]*press Ctrl-C to stop/, 60_000);
    address = `127.0.0.1:${port}`;
    expect(devserver.stdout()).toBe(`lastmile devserver listening on ${address} (namespace default) — state in ${project.dataDir}\n`);
    expect(devserver.stderr()).toContain(`TEMPORAL_ADDRESS=${address}`);
    connection = await Connection.connect({ address, connectTimeout: 5000 });
    client = new Client({ connection });
    const namespace = await connection.workflowService.describeNamespace({ namespace: 'default' });
    expect(namespace.namespaceInfo?.name).toBe('default');
    expect((await connection.workflowService.getSystemInfo({})).capabilities).toBeDefined();
  }, 90_000);

  it('worker --env dev uses TEMPORAL_ADDRESS (before a temporal on PATH), serves runs other processes start, and exits 0 on SIGTERM', async () => {
    expect(address, 'the devserver test runs first').toBeDefined();
    const worker = spawnCli(['worker', '--env', 'dev', '--root', project.root], {
      env: { TEMPORAL_ADDRESS: address, PATH: `${fakeDir}${path.delimiter}${cliEnv().PATH}` },
    });
    try {
      await worker.waitFor(/worker ready for dev/, 60_000);
      expect(worker.stderr()).toContain(`temporal: Temporal at ${address} (from $TEMPORAL_ADDRESS), namespace default`);
      expect(worker.stderr()).toContain('worker: polling task queue lastmile-dev');
      expect(existsSync(path.join(fakeDir, 'calls.log')), 'the temporal on PATH was not used').toBe(false);

      // A run started by another process (this one), served by the worker process: the only poller of lastmile-dev.
      const handle = await startServeProduct(client, 'partner_invoices', 'finance-data');
      const summary = (await handle.result()) as RunSummary;
      expect(summary).toMatchObject({ product: 'partner_invoices', env: 'dev', status: 'succeeded' });
      expect(await workflowTaskIdentities(client, handle.workflowId)).toEqual([`lastmile@${worker.pid}`]);
      const row = (await services.warehouse.query('select status, rows, product_version from lastmile.runs where run_id = $1', [summary.runId])).rows[0];
      expect(row).toEqual({ status: 'succeeded', rows: String(summary.rows), product_version: summary.version });

      // the worker says what it did: one line per workflow and per activity outcome
      await worker.waitFor(new RegExp(`workflow serveProduct ${handle.workflowId} completed`), 10_000);
      expect(worker.stderr()).toMatch(new RegExp(`activity checkProduct of ${handle.workflowId} completed in \\d+\\.\\d s`));
      expect(worker.stderr()).toMatch(/workflow fileExchange lastmile\/dev\/partner_invoices\/monthly_csv\/\S+\/files completed/);

      // And `lastmile run` from a second CLI process while the worker polls the same queue: on a Temporal given by
      // TEMPORAL_ADDRESS it runs no worker of its own, the worker process serves the run.
      const run = await runCli(['run', 'returns_by_supplier', '--root', project.root], { env: { TEMPORAL_ADDRESS: address } });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^returns_by_supplier \S+ in dev: SUCCEEDED/);
      expect(run.stderr).toContain(`worker: none in this process — the workers polling lastmile-dev on ${address} run it`);
      await worker.waitFor(/workflow serveProduct lastmile\/dev\/returns_by_supplier\/all\/\S+ completed/, 10_000);
    } finally {
      const started = Date.now();
      const stopped = await worker.stop('SIGTERM', 10_000);
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(stopped.signal).toBeNull();
      expect(stopped.stderr).toContain('SIGTERM: stopping the worker after the tasks in hand');
    }
    // The warehouse it found running is still there.
    expect((await services.warehouse.query('select 1 as ok')).rows[0].ok).toBe(1);
  }, 120_000);

  it('devserver stops cleanly on SIGINT (exit 130) and stops answering', async () => {
    const started = Date.now();
    const stopped = await devserver.stop('SIGINT', 10_000);
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(await portAnswers(Number(address.split(':')[1]))).toBe(false);
  }, 30_000);

  it('with a `temporal` executable on PATH and no TEMPORAL_ADDRESS, the worker runs `temporal server start-dev`, and exits 130 on SIGINT', async () => {
    const worker = spawnCli(['worker', '--root', project.root], { env: { PATH: `${fakeDir}${path.delimiter}${cliEnv().PATH}` } });
    let cliAddress: string | undefined;
    try {
      const [, found] = await worker.waitFor(/temporal: `temporal server start-dev` \(found on PATH at (\S+)\) at (127\.0\.0\.1:\d+), namespace default/, 60_000);
      expect(found).toBe(fakeTemporal);
      cliAddress = /at (127\.0\.0\.1:\d+), namespace default/.exec(worker.stderr())![1];
      await worker.waitFor(/worker ready for dev/, 60_000);
      const calls = readFileSync(path.join(fakeDir, 'calls.log'), 'utf8').trim().split('\n');
      expect(calls).toEqual([expect.stringMatching(new RegExp(`^server start-dev --headless --port ${cliAddress.split(':')[1]}\\b`))]);

      // It serves runs there.
      const connection2 = await Connection.connect({ address: cliAddress });
      try {
        const handle = await startServeProduct(new Client({ connection: connection2 }), 'partner_invoices', 'finance-data');
        expect(((await handle.result()) as RunSummary).status).toBe('succeeded');
      } finally {
        await connection2.close();
      }
    } finally {
      const started = Date.now();
      const stopped = await worker.stop('SIGINT', 10_000);
      expect(stopped.code, stopped.stderr).toBe(130);
      expect(stopped.stderr).toContain('SIGINT: stopping the worker after the tasks in hand');
      expect(Date.now() - started).toBeLessThan(8_000);
    }
    // The `temporal server start-dev` it started is gone with it.
    if (cliAddress) {
      const port = Number(cliAddress.split(':')[1]);
      for (let i = 0; i < 20 && (await portAnswers(port)); i++) await new Promise((r) => setTimeout(r, 100));
      expect(await portAnswers(port)).toBe(false);
    }
  }, 120_000);

  it('the Temporal the worker started goes away: the worker exits 3 at once with the cause, instead of serving nothing', async () => {
    const worker = spawnCli(['worker', '--root', project.root], { env: { PATH: `${fakeDir}${path.delimiter}${cliEnv().PATH}` } });
    try {
      await worker.waitFor(/worker ready for dev/, 60_000);
      const port = /start-dev` \(found on PATH at \S+\) at 127\.0\.0\.1:(\d+)/.exec(worker.stderr())![1];
      const server = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
        .split('\n')
        .find((line) => line.includes(' devserver --port ' + port + ' '));
      expect(server, 'the fake `temporal server start-dev` process').toBeDefined();
      const killedAt = Date.now();
      process.kill(Number(server!.trim().split(/\s+/)[0]), 'SIGKILL');
      const ended = await withDeadline(worker.exited, 20_000);
      expect(ended.code, ended.stderr).toBe(3);
      expect(ended.stderr).toMatch(/lastmile: Temporal stopped: `.*temporal server start-dev` exited \(SIGKILL\)/);
      expect(ended.stderr).not.toContain('    at ');
      expect(Date.now() - killedAt).toBeLessThan(15_000);
    } finally {
      await killStrays();
    }
  }, 120_000);
});

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms))]);
}
