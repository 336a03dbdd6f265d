import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCliProject, killStrays, runCli, spawnCli, stackLines, type CliProject } from '../support/cli.js';
import { startEmbeddedPostgres } from '../../src/warehouse/embedded.js';

function postgresAlive(dataDir: string): boolean {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('Ctrl-C in a terminal', () => {
  let project: CliProject;
  beforeEach(async () => {
    project = await createCliProject();
  });
  afterEach(async () => {
    await killStrays();
    await project.remove();
  });

  // A terminal sends SIGINT to the whole process group: lastmile and everything it started in that group.
  it('stops `lastmile dev` mid-round quickly and quietly: exit 130, no stack trace, no fatal error; the next start leaves no run running', async () => {
    const dev = spawnCli(['dev', '--root', project.root]);
    // interrupted in its first round, while products are being served
    await dev.waitFor(/worker: polling task queue lastmile-dev/, 120_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(postgresAlive(project.dataDir)).toBe(true);
    const sent = Date.now();
    process.kill(-dev.pid, 'SIGINT');
    const stopped = await dev.exited;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(Date.now() - sent).toBeLessThan(15_000);
    expect(stackLines(stopped.stderr)).toEqual([]);
    expect(stopped.stderr).not.toMatch(/fatal error|Unhandled 'error' event|BrokenPipe|database system is shutting down/);
    // lastmile stopped its PostgreSQL itself, last
    expect(postgresAlive(project.dataDir)).toBe(false);

    const again = await runCli(['dev', '--once', '--root', project.root], { timeoutMs: 180_000 });
    expect(stackLines(again.stderr)).toEqual([]);
    const server = await startEmbeddedPostgres({ dataDir: project.dataDir });
    try {
      const client = new pg.Client({ connectionString: server.urlFor('warehouse_dev') });
      await client.connect();
      const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from lastmile.runs where status = 'running'`);
      await client.end();
      expect(rows[0]!.n).toBe(0);
    } finally {
      await server.stop();
    }
  }, 300_000);
});
