/**
 * The port of a project's embedded PostgreSQL: the same one every start, so a psql session, a BI tool or a saved
 * connection keeps working. It is derived from the data folder's path (a hash into 54320–59999); when something
 * else holds it, the port of the previous start is tried, then any free port. The port a cluster started on is
 * written next to its folder (`.lastmile/pg.port`), so `lastmile warehouse url` can name it while nothing runs;
 * while the cluster runs, its `postmaster.pid` says the port it listens on.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

/** The ports a data folder's path is hashed into (above PostgreSQL's own 5432, below the ephemeral range). */
export const STABLE_PORTS = { first: 54320, last: 59999 } as const;

/** The port derived from the data folder: the same for the same folder, on every machine and every start. */
export function derivedPort(dataDir: string): number {
  const digest = createHash('sha256').update(path.resolve(dataDir)).digest();
  const size = STABLE_PORTS.last - STABLE_PORTS.first + 1;
  return STABLE_PORTS.first + (digest.readUInt32BE(0) % size);
}

/** `<dataDir>.port`: where the port of the cluster's last start is recorded (`.lastmile/pg.port`). */
export function portFile(dataDir: string): string {
  return `${path.resolve(dataDir)}.port`;
}

/** The port recorded by the cluster's last start, if any. */
export function recordedPort(dataDir: string): number | undefined {
  const file = portFile(dataDir);
  if (!existsSync(file)) return undefined;
  const port = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

/** Records the port a cluster started on. */
export async function recordPort(dataDir: string, port: number): Promise<void> {
  await writeFile(portFile(dataDir), `${port}\n`);
}

/** The port a stopped cluster will most likely use next: the one it last started on, else the derived one. */
export function expectedPort(dataDir: string): number {
  return recordedPort(dataDir) ?? derivedPort(dataDir);
}

/** Asks the OS for a free TCP port on localhost. */
export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True when nothing listens on 127.0.0.1:port (and this process may listen there). */
export async function portIsFree(port: number): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The derived port when free, else the last start's port when free, else any free port. */
export async function choosePort(dataDir: string): Promise<{ port: number; stable: boolean }> {
  const candidates = [...new Set([derivedPort(dataDir), recordedPort(dataDir)])].filter((port): port is number => port !== undefined);
  for (const port of candidates) {
    if (await portIsFree(port)) return { port, stable: true };
  }
  return { port: await freePort(), stable: false };
}
