/**
 * The fixed cost of the `lastmile` command on a warm project — what a user waits for beyond the work itself.
 *
 * Setup: a project folder like a user's (package.json, node_modules/lastmile → this repository, lastmile.config.ts,
 * products/ and seed/ copied from the repository), in the OS temp folder; one `lastmile run` first seeds its embedded
 * warehouse and fills the caches (not timed, reported as `cold.run_ms`). Then each command runs `--repeat` times
 * (default 3; the median is reported), as a child process, from start to exit:
 *  - `version`: `lastmile --version` — the CLI's own start;
 *  - `list`, `status`, `slo`: the read-only commands (their embedded PostgreSQL stopped before each, as after any
 *    command: the warm project has its cluster on disk, not running);
 *  - `run`: `lastmile run partner_invoices --target monthly_csv` on the embedded defaults. `run.fixed_ms` is its wall
 *    time minus the run's own duration (the summary's startedAt → finishedAt): the cost of coming up and going down.
 * Then the parts of that fixed cost, each timed in this process (median of the repeats): `parts.load_project_ms`
 * (config and product modules through tsx), `parts.embedded_postgres_ms` (start an existing cluster),
 * `parts.devserver_ms` (start the devserver on it, state loaded), `parts.bundle_ms` (the workflow bundle, from its
 * cache when the workflow code has not changed; `parts.bundle_cold_ms` builds it anew) and `parts.worker_ms`
 * (Worker.create with that bundle).
 *
 * Targets (issue 12): `run.fixed_ms` ≤ 2000, `list`/`status`/`slo` ≤ 1000.
 * Flags: --repeat=N (default 3; --quick 1), --keep (leave the project folder, its path on stderr).
 */
import { execFileSync, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib/stats.js';
import { numberFlag, type BenchOptions, type BenchResult } from './lib/types.js';

export const description = 'fixed cost of lastmile commands on a warm project (CLI start, PostgreSQL, devserver, bundle, worker)';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(REPO, 'bin', 'lastmile.js');

interface Timed {
  ms: number;
  stdout: string;
  code: number | null;
}

function cli(root: string, args: string[]): Promise<Timed> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'NODE_OPTIONS']) delete env[name];
    const rooted = args[0] === '--version' ? args : [...args, '--root', root];
    const child = spawn(process.execPath, [BIN, ...rooted], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code !== 0 && code !== 1) reject(new Error(`lastmile ${args.join(' ')} exited ${code}:\n${stderr}`));
      else resolve({ ms, stdout, code });
    });
  });
}

async function project(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'lastmile-bench-overhead-'));
  await writeFile(path.join(root, 'package.json'), JSON.stringify({ name: 'bench-project', private: true, type: 'module' }));
  await mkdir(path.join(root, 'node_modules'), { recursive: true });
  await symlink(REPO, path.join(root, 'node_modules', 'lastmile'), 'dir');
  for (const entry of ['lastmile.config.ts', 'products', 'seed']) await cp(path.join(REPO, entry), path.join(root, entry), { recursive: true });
  execFileSync('git', ['init', '-q'], { cwd: root });
  return root;
}

async function timeIt<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const repeat = numberFlag(options, 'repeat', options.quick ? 1 : 3);
  const root = await project();
  options.log(`project: ${root}`);
  const results: BenchResult[] = [];
  const add = (metric: string, value: number, baseline: number | null = null) =>
    results.push({ metric, value: Math.round(value), unit: 'ms', baseline, better: 'lower' });
  try {
    const cold = await cli(root, ['run', 'partner_invoices', '--target', 'monthly_csv', '--json']);
    add('cold.run_ms', cold.ms);
    options.log(`cold run: ${Math.round(cold.ms)} ms`);

    const samples = new Map<string, number[]>();
    const sample = (name: string, ms: number) => samples.set(name, [...(samples.get(name) ?? []), ms]);
    for (let i = 0; i < repeat; i++) {
      sample('version', (await cli(root, ['--version'])).ms);
      for (const command of ['list', 'status', 'slo']) sample(command, (await cli(root, [command])).ms);
      const timed = await cli(root, ['run', 'partner_invoices', '--target', 'monthly_csv', '--json']);
      const summary = JSON.parse(timed.stdout) as { status: string; startedAt: string; finishedAt: string };
      if (summary.status !== 'succeeded') throw new Error(`the timed run ended ${summary.status}`);
      const work = Date.parse(summary.finishedAt) - Date.parse(summary.startedAt);
      sample('run', timed.ms);
      sample('run.work', work);
      sample('run.fixed', timed.ms - work);
      options.log(`round ${i + 1}: ${[...samples].map(([name, list]) => `${name} ${Math.round(list[list.length - 1]!)} ms`).join(', ')}`);
    }
    add('version_ms', median(samples.get('version')!));
    for (const command of ['list', 'status', 'slo']) add(`${command}_ms`, median(samples.get(command)!), 1000);
    add('run_ms', median(samples.get('run')!));
    add('run.work_ms', median(samples.get('run.work')!));
    add('run.fixed_ms', median(samples.get('run.fixed')!), 2000);

    // the parts, in this process
    const { loadProject } = await import('../src/runtime/project.js');
    const { startEmbeddedPostgres, embeddedDataDir } = await import('../src/warehouse/embedded.js');
    const { startDevServer } = await import('../devserver/index.js');
    const { workflowBundle, buildWorkflowBundle } = await import('../src/temporal/worker.js');
    const { NativeConnection, Worker } = await import('@temporalio/worker');
    const parts = new Map<string, number[]>();
    const part = (name: string, ms: number) => parts.set(name, [...(parts.get(name) ?? []), ms]);
    for (let i = 0; i < repeat; i++) {
      part('load_project', (await timeIt(() => loadProject(root))).ms);
      const pg = await timeIt(() => startEmbeddedPostgres({ dataDir: embeddedDataDir(root) }));
      part('embedded_postgres', pg.ms);
      const server = await timeIt(() => startDevServer({ port: 0, databaseUrl: pg.value.urlFor('lastmile') }));
      part('devserver', server.ms);
      const bundle = await timeIt(() => workflowBundle(root));
      part('bundle', bundle.ms);
      if (i === 0) part('bundle_cold', (await timeIt(() => buildWorkflowBundle())).ms);
      const connection = await NativeConnection.connect({ address: server.value.address });
      const worker = await timeIt(() => Worker.create({ connection, taskQueue: 'bench-overhead', workflowBundle: bundle.value, activities: {} }));
      part('worker', worker.ms);
      await worker.value.runUntil(Promise.resolve());
      await connection.close();
      await server.value.stop();
      await pg.value.stop();
    }
    for (const [name, list] of parts) add(`parts.${name}_ms`, median(list));
  } finally {
    if (!options.flags.keep) await rm(root, { recursive: true, force: true });
  }
  return results;
}
