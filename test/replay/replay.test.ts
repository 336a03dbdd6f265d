/**
 * Replay safety: the histories in test/replay/histories/ (recorded by record-histories.ts from runs of every example
 * product — serveProduct, each child kind, the SLO monitors, share expiry) replay against today's workflow code with
 * the SDK's replayer. A change to a workflow's commands that is not guarded by `patched()` fails here, before it can
 * break a running workflow in production. A deliberately non-deterministic copy of the code is shown to fail.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import protoPkg from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflowBundle } from '../../src/temporal/workflow-bundle.js';

const { temporal } = protoPkg;
const REPO = path.resolve(import.meta.dirname, '../..');
const HISTORIES = path.join(import.meta.dirname, 'histories');

interface Recorded {
  file: string;
  workflowId: string;
  type: string;
  history: ReturnType<typeof temporal.api.history.v1.History.fromObject>;
}

async function recorded(): Promise<Recorded[]> {
  const files = (await readdir(HISTORIES)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => {
      const json = JSON.parse(await readFile(path.join(HISTORIES, file), 'utf8')) as { workflowId: string; type: string; history: Record<string, unknown> };
      return { file, workflowId: json.workflowId, type: json.type, history: temporal.api.history.v1.History.fromObject(json.history) };
    }),
  );
}

async function replay(bundle: { code: string }, histories: readonly Recorded[]): Promise<Map<string, Error | undefined>> {
  const results = new Map<string, Error | undefined>();
  const byId = new Map(histories.map((h) => [h.workflowId, h.file]));
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle, replayName: 'lastmile-replay-test' }, histories.map((h) => ({ workflowId: h.workflowId, history: h.history })))) {
    results.set(byId.get(result.workflowId)!, result.error);
  }
  return results;
}

let histories: Recorded[];
const tmp: string[] = [];

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // installed by an earlier suite in this process
  }
  histories = await recorded();
});

afterAll(async () => {
  for (const dir of tmp) await rm(dir, { recursive: true, force: true });
});

describe('replaying recorded histories', () => {
  it('has a history of every workflow kind lastmile runs', () => {
    const types = new Set(histories.map((h) => h.type));
    for (const type of ['serveProduct', 'fileExchange', 'dashboardRefresh', 'dataSharing', 'reverseEtlSync', 'sloMonitor', 'shareExpiry']) expect(types).toContain(type);
  });

  it('replays every one against the workflow code as it is', async () => {
    const results = await replay(await buildWorkflowBundle(), histories);
    expect(results.size).toBe(histories.length);
    const failed = [...results].filter(([, error]) => error !== undefined).map(([file, error]) => `${file}: ${error!.message}`);
    expect(failed).toEqual([]);
  }, 120_000);

  it('fails a change that alters what serveProduct does without patched()', async () => {
    // a copy of workflows/ whose serveProduct sleeps before anything else: a timer the histories never had
    // inside the repository, so the copy resolves @temporalio/workflow from its node_modules
    await mkdir(path.join(REPO, '.lastmile'), { recursive: true });
    const dir = await mkdtemp(path.join(REPO, '.lastmile', 'replay-'));
    tmp.push(dir);
    await cp(path.join(REPO, 'workflows'), path.join(dir, 'workflows'), { recursive: true });
    const file = path.join(dir, 'workflows', 'serve-product.ts');
    const source = await readFile(file, 'utf8');
    const changed = source.replace(/export async function serveProduct\(([^)]*)\)([^{]*)\{/, (whole) => `${whole}\n  await sleep('1 second');`);
    expect(changed).not.toBe(source);
    await writeFile(file, /import \{[^}]*\bsleep\b[^}]*\} from '@temporalio\/workflow'/.test(changed) ? changed : `import { sleep } from '@temporalio/workflow';\n${changed}`);
    const bundle = await bundleWorkflowCode({ workflowsPath: path.join(dir, 'workflows', 'index.ts'), logger: new DefaultLogger('ERROR') });
    const serve = histories.filter((h) => h.type === 'serveProduct');
    const results = await replay(bundle, serve);
    expect(results.size).toBe(serve.length);
    for (const [file, error] of results) {
      expect(error, file).toBeDefined();
      expect(error!.name, file).toBe('DeterminismViolationError');
    }
  }, 120_000);
});
