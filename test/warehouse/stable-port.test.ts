/**
 * The embedded PostgreSQL of a data folder listens on the same port every start — a port derived from the folder's
 * path — so connections people saved keep working; when something else holds that port it takes a free one, and
 * the port of each start is recorded next to the folder for `lastmile warehouse url`.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedStatus, startEmbeddedPostgres } from '../../src/warehouse/embedded.js';
import { derivedPort, portFile, STABLE_PORTS } from '../../src/warehouse/embedded-port.js';

describe('the stable port of an embedded PostgreSQL', () => {
  const cleanup: string[] = [];

  afterAll(async () => {
    for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
  });

  it('is derived from the data folder: the same on two successive starts, recorded, and told while stopped', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lastmile-port-'));
    cleanup.push(dir);
    const dataDir = path.join(dir, '.lastmile', 'pg');
    const port = derivedPort(dataDir);
    expect(port).toBeGreaterThanOrEqual(STABLE_PORTS.first);
    expect(port).toBeLessThanOrEqual(STABLE_PORTS.last);
    expect(derivedPort(path.join(dir, '.lastmile', '..', '.lastmile', 'pg'))).toBe(port);
    expect(embeddedStatus(dataDir)).toMatchObject({ running: false, port });

    const first = await startEmbeddedPostgres({ dataDir });
    expect(first.port).toBe(port);
    expect(embeddedStatus(dataDir)).toMatchObject({ running: true, port });
    await first.stop();
    expect(readFileSync(portFile(dataDir), 'utf8').trim()).toBe(String(port));
    expect(portFile(dataDir)).toBe(path.join(dir, '.lastmile', 'pg.port'));

    const second = await startEmbeddedPostgres({ dataDir });
    expect(second.port).toBe(port);
    expect(second.urlFor('postgres')).toBe(embeddedStatus(dataDir).urlFor('postgres'));
    await second.stop();
  }, 120_000);

  it('falls back to a free port while the derived one is taken, and returns to it once it is free', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lastmile-port-'));
    cleanup.push(dir);
    const dataDir = path.join(dir, 'pg');
    const port = derivedPort(dataDir);
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const server = await startEmbeddedPostgres({ dataDir });
      expect(server.port).not.toBe(port);
      expect(embeddedStatus(dataDir)).toMatchObject({ running: true, port: server.port });
      await server.stop();
      // stopped, it tells the port it last ran on
      expect(embeddedStatus(dataDir)).toMatchObject({ running: false, port: server.port });
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    const again = await startEmbeddedPostgres({ dataDir });
    expect(again.port).toBe(port);
    await again.stop();
  }, 120_000);
});
