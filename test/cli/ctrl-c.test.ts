import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCliProject, killStrays, spawnCli, type CliProject } from '../support/cli.js';

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

  // A terminal sends SIGINT to the whole process group: lastmile and the embedded PostgreSQL it started.
  it('stops `lastmile dev` cleanly when the signal also reaches its embedded PostgreSQL', async () => {
    const dev = spawnCli(['dev', '--root', project.root]);
    await dev.waitFor(/serving dev on \d+ schedules — press Ctrl-C to stop/, 120_000);
    expect(postgresAlive(project.dataDir)).toBe(true);
    process.kill(-dev.pid, 'SIGINT');
    const stopped = await dev.exited;
    expect(stopped.stderr).not.toMatch(/Unhandled 'error' event/);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(postgresAlive(project.dataDir)).toBe(false);
  }, 180_000);
});
