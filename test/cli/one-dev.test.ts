/** One `lastmile dev` per project: a second one refuses at once with exit 3, also when both start at the same moment. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCliProject, killStrays, runCli, spawnCli, stackLines, type CliProject } from '../support/cli.js';

describe('two lastmile dev on one project', () => {
  let project: CliProject;
  beforeEach(async () => {
    project = await createCliProject();
  });
  afterEach(async () => {
    await killStrays();
    await project.remove();
  });

  it('the second refuses at once, saying who holds the project; started together, exactly one runs', async () => {
    const [a, b] = [spawnCli(['dev', '--root', project.root]), spawnCli(['dev', '--root', project.root])];
    const first = await Promise.race([a.exited.then(() => a), b.exited.then(() => b)]);
    const running = first === a ? b : a;
    const refused = await first.exited;
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(new RegExp(`lastmile dev is already running for this project \\(pid ${running.pid}, since \\S+\\)`));
    expect(stackLines(refused.stderr)).toEqual([]);
    expect(refused.ms).toBeLessThan(15_000);

    await running.waitFor(/serving dev on \d+ schedules?/, 180_000);
    const later = await runCli(['dev', '--root', project.root, '--json']);
    expect(later.code).toBe(3);
    expect(JSON.parse(later.stdout)).toMatchObject({ error: { kind: 'unavailable', message: expect.stringMatching(/already running/) }, exitCode: 3 });

    // once the first has stopped, a new one starts
    const stopped = await running.stop('SIGINT', 30_000);
    expect(stopped.code, stopped.stderr).toBe(130);
    const next = spawnCli(['dev', '--root', project.root]);
    await next.waitFor(/serving dev on \d+ schedules?/, 180_000);
    expect((await next.stop('SIGINT', 30_000)).code).toBe(130);
  }, 420_000);
});
