/**
 * Publishing versions to a local folder, on real files in a temp dir: the manifest and `_latest.json`, verification
 * against corrupted bytes, a reader in another thread that follows `_latest.json` while 20 versions are published,
 * failed and aborted publishes, retention, revocation, and keys that try to leave the folder.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDestination, type Destination, type ObjectInfo } from '../../src/files/destination.js';
import type { Manifest } from '../../src/files/manifest.js';
import {
  applyRetention,
  cleanupIncomplete,
  consumerLinks,
  currentVersion,
  listVersions,
  movePointer,
  revokeVersion,
  verifyVersion,
  versionPrefix,
  writeManifest,
} from '../../src/files/publish.js';

const DAY = 24 * 3600 * 1000;
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

let root: string;
let dest: Destination;
let folder: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'lastmile-publish-'));
  dest = await openDestination({ to: './exchange/invoices' }, { root });
  folder = path.join(root, 'exchange', 'invoices');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The CSV a run writes for one partition: its run id on every line, so a mixed-up read shows. */
function csv(runId: string, partner: string, lines: number): string {
  let text = 'invoice_id,partner,run\n';
  for (let i = 0; i < lines; i++) text += `${i},${partner},${runId}\n`;
  return text;
}

async function writeFileTo(destination: Destination, key: string, text: string): Promise<ObjectInfo> {
  const write = destination.write(key, { contentType: 'text/csv' });
  // Several chunks, so the bytes really stream.
  const bytes = Buffer.from(text);
  for (let offset = 0; offset < bytes.length; offset += 64 * 1024) write.stream.write(bytes.subarray(offset, offset + 64 * 1024));
  write.stream.end();
  return write.done();
}

/** The whole protocol for one run: clean up, write the files, manifest, verify, move the pointer. */
async function publish(
  runId: string,
  options: { createdAt?: Date; partners?: string[]; lines?: number; pointer?: boolean } = {},
): Promise<Manifest> {
  const { createdAt = new Date(), partners = ['acme', 'globex'], lines = 200, pointer = true } = options;
  await cleanupIncomplete(dest, runId);
  const files = [];
  for (const partner of partners) {
    const text = csv(runId, partner, lines);
    const info = await writeFileTo(dest, `${versionPrefix(runId)}invoices-${partner}.csv`, text);
    files.push({ key: info.key, rows: lines, bytes: info.bytes, sha256: info.sha256!, partition: partner });
  }
  const manifest = manifestOf(runId, files, createdAt);
  await writeManifest(dest, manifest);
  const verified = await verifyVersion(dest, runId);
  if (!verified.ok) throw new Error(verified.problems.join('; '));
  if (pointer) await movePointer(dest, runId);
  return manifest;
}

function manifestOf(runId: string, files: Manifest['files'], createdAt = new Date()): Manifest {
  return {
    product: 'invoices',
    version: '1.0.0',
    gitSha: 'abc1234',
    target: 'by_partner',
    runId,
    createdAt: createdAt.toISOString(),
    schema: [
      { name: 'invoice_id', type: 'integer' },
      { name: 'partner', type: 'text' },
      { name: 'run', type: 'text' },
    ],
    format: 'csv',
    compression: 'none',
    files,
    rows: files.reduce((sum, f) => sum + f.rows, 0),
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    checks: { passed: 2, failed: 0 },
  };
}

function readPointerFile(): { version: string; manifest: string; publishedAt: string } {
  return JSON.parse(readFileSync(path.join(folder, '_latest.json'), 'utf8'));
}

/** Every file under the folder, hidden ones too, relative with '/'. */
async function allFiles(dir = folder, base = ''): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = base ? `${base}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await allFiles(path.join(dir, entry.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}

describe('publishing to a local folder', () => {
  it('publishes two versions: the pointer names the second, the manifest describes its files, verification passes', async () => {
    await publish('run-1', { createdAt: new Date(Date.now() - 60_000) });
    const second = await publish('run-2');

    expect(readPointerFile()).toEqual({ version: 'v=run-2', manifest: 'v=run-2/_manifest.json', publishedAt: expect.any(String) });
    expect(await currentVersion(dest)).toBe('run-2');

    const onDisk = JSON.parse(await readFile(path.join(folder, 'v=run-2', '_manifest.json'), 'utf8'));
    expect(onDisk).toEqual(second);
    expect(onDisk).toMatchObject({
      product: 'invoices',
      version: '1.0.0',
      gitSha: 'abc1234',
      target: 'by_partner',
      runId: 'run-2',
      format: 'csv',
      compression: 'none',
      rows: 400,
      checks: { passed: 2, failed: 0 },
    });
    for (const file of onDisk.files) {
      const bytes = await readFile(path.join(folder, ...file.key.split('/')));
      expect(file.bytes).toBe(bytes.length);
      expect(file.sha256).toBe(sha256(bytes));
      expect(bytes.toString()).toContain(',run-2\n');
    }
    expect(onDisk.files.map((f: { key: string }) => f.key)).toEqual(['v=run-2/invoices-acme.csv', 'v=run-2/invoices-globex.csv']);
    expect(await allFiles()).toEqual([
      '_latest.json',
      'v=run-1/_manifest.json',
      'v=run-1/invoices-acme.csv',
      'v=run-1/invoices-globex.csv',
      'v=run-2/_manifest.json',
      'v=run-2/invoices-acme.csv',
      'v=run-2/invoices-globex.csv',
    ]);

    const verified = await verifyVersion(dest, 'run-2');
    expect(verified).toEqual({ ok: true, manifest: second });
    expect((await listVersions(dest)).map((v) => [v.runId, v.current])).toEqual([
      ['run-1', false],
      ['run-2', true],
    ]);
    // Moving the pointer again is a no-op; an older run finishing late does not hide the newer one.
    await movePointer(dest, 'run-2');
    expect(readPointerFile().version).toBe('v=run-2');
    await expect(movePointer(dest, 'run-1')).rejects.toThrow(/v=run-2 .* is newer than v=run-1/);
    expect(await currentVersion(dest)).toBe('run-2');
  });

  it('verification names the key of a corrupted, truncated, missing or unexpected file', async () => {
    await publish('run-1');
    const acme = path.join(folder, 'v=run-1', 'invoices-acme.csv');
    const bytes = await readFile(acme);
    bytes[100] = bytes[100]! ^ 0x01; // one bit, same size
    await writeFile(acme, bytes);
    let verified = await verifyVersion(dest, 'run-1');
    expect(verified.ok).toBe(false);
    expect(!verified.ok && verified.problems).toEqual([expect.stringMatching(/^v=run-1\/invoices-acme\.csv: sha256 [0-9a-f]{64}, but the manifest says/)]);

    await writeFile(path.join(folder, 'v=run-1', 'invoices-globex.csv'), 'short');
    await writeFile(path.join(folder, 'v=run-1', 'stray.csv'), 'x');
    verified = await verifyVersion(dest, 'run-1');
    expect(!verified.ok && verified.problems).toEqual([
      expect.stringMatching(/^v=run-1\/invoices-acme\.csv: sha256/),
      expect.stringMatching(/^v=run-1\/invoices-globex\.csv: 5 bytes, but the manifest says \d+/),
      'v=run-1/stray.csv: not in the manifest',
    ]);

    await rm(acme);
    verified = await verifyVersion(dest, 'run-1');
    expect(!verified.ok && verified.problems[0]).toBe('v=run-1/invoices-acme.csv: missing');

    expect(await verifyVersion(dest, 'run-9')).toEqual({ ok: false, problems: [expect.stringMatching(/^v=run-9\/_manifest\.json: missing/)] });
    await writeFile(path.join(folder, 'v=run-1', '_manifest.json'), '{ not json');
    verified = await verifyVersion(dest, 'run-1');
    expect(!verified.ok && verified.problems[0]).toMatch(/^v=run-1\/_manifest\.json: .*not valid JSON/);
  });

  it('a reader in another thread following _latest.json while 20 versions are published never sees a partial version', async () => {
    await publish('v00', { lines: 2000 });
    const reader = new Worker(READER, { eval: true, workerData: { folder } });
    const result = new Promise<{ reads: number; failures: string[] }>((resolve, reject) => {
      reader.once('message', resolve);
      reader.once('error', reject);
    });
    for (let i = 1; i <= 20; i++) {
      // Varying sizes and partitions: every version differs from the last in what it holds.
      const partners = i % 3 === 0 ? ['acme'] : i % 3 === 1 ? ['acme', 'globex'] : ['acme', 'globex', 'initech'];
      await publish(`v${String(i).padStart(2, '0')}`, { partners, lines: 1000 + 400 * i });
    }
    reader.postMessage('stop');
    const { reads, failures } = await result;
    await reader.terminate();
    expect(failures).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    expect(await currentVersion(dest)).toBe('v20');
  });

  it('a failed publish leaves the previous version current, and cleanupIncomplete removes what it wrote', async () => {
    await publish('run-1');
    // Run 2: one file written, the second aborted midway, then the run fails before the pointer moves.
    const first = await writeFileTo(dest, 'v=run-2/invoices-acme.csv', csv('run-2', 'acme', 500));
    const second = dest.write('v=run-2/invoices-globex.csv');
    second.stream.write(Buffer.alloc(100_000, 'x'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await second.abort();
    await expect(second.done()).rejects.toThrow(/aborted/);
    expect(existsSync(path.join(folder, 'v=run-2', 'invoices-globex.csv'))).toBe(false);
    expect(await dest.head('v=run-2/invoices-globex.csv')).toBeUndefined();
    // A manifest that does not match (the aborted file is listed) fails verification; the pointer does not move.
    await writeManifest(
      dest,
      manifestOf('run-2', [
        { key: first.key, rows: 500, bytes: first.bytes, sha256: first.sha256! },
        { key: 'v=run-2/invoices-globex.csv', rows: 1, bytes: 100_000, sha256: sha256(Buffer.alloc(100_000, 'x')) },
      ]),
    );
    expect(await verifyVersion(dest, 'run-2')).toEqual({ ok: false, problems: ['v=run-2/invoices-globex.csv: missing'] });
    expect(await currentVersion(dest)).toBe('run-1');
    expect((await verifyVersion(dest, 'run-1')).ok).toBe(true);

    // A worker killed mid-write leaves a hidden temp file that no listing shows.
    const killed = dest.write('v=run-2/invoices-initech.csv');
    killed.stream.write('half a file');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await allFiles()).some((f) => /^v=run-2\/\.invoices-initech\.csv\.[0-9a-f]{12}\.partial$/.test(f))).toBe(true);

    expect(await cleanupIncomplete(dest, 'run-2')).toBe(3); // the file, the manifest, the temp file
    expect(await allFiles()).toEqual(['_latest.json', 'v=run-1/_manifest.json', 'v=run-1/invoices-acme.csv', 'v=run-1/invoices-globex.csv']);
    expect(existsSync(path.join(folder, 'v=run-2'))).toBe(false);
    expect(await cleanupIncomplete(dest, 'run-2')).toBe(0);
    await killed.abort(); // (only to close its file handle in this process)
    await expect(cleanupIncomplete(dest, 'run-1')).rejects.toThrow(/v=run-1 is the published version/);

    // The retried run publishes cleanly.
    await publish('run-2');
    expect(await currentVersion(dest)).toBe('run-2');
  });

  it('a write whose stream fails, or whose bytes differ from the expected sha256, leaves nothing', async () => {
    const failing = dest.write('v=r/a.csv');
    failing.stream.write('some bytes');
    failing.stream.destroy(new Error('the query failed'));
    await expect(failing.done()).rejects.toThrow(/folder .*'v=r\/a\.csv'.*the query failed/);
    const wrong = dest.write('v=r/b.csv', { sha256: sha256('expected') });
    wrong.stream.end('other');
    await expect(wrong.done()).rejects.toThrow(/sha256 .* not the expected/);
    await expect(movePointer(dest, 'r')).rejects.toThrow(/no valid manifest/);
    expect(await allFiles()).toEqual([]);
    // abort after done is a no-op: the object stays
    const ok = dest.write('v=r/c.csv');
    ok.stream.end('fine');
    expect(await ok.done()).toMatchObject({ key: 'v=r/c.csv', bytes: 4, sha256: sha256('fine') });
    await ok.abort();
    expect(readFileSync(path.join(folder, 'v=r', 'c.csv'), 'utf8')).toBe('fine');
    const empty = dest.write('v=r/empty.csv');
    empty.stream.end();
    expect(await empty.done()).toMatchObject({ bytes: 0, sha256: sha256('') });
    expect(await dest.head('v=r/empty.csv')).toMatchObject({ bytes: 0 });
  });

  it('retention keeps the last N (never the current one) and versions younger than D days', async () => {
    const now = new Date();
    for (let i = 1; i <= 6; i++) await publish(`r${i}`, { createdAt: new Date(now.getTime() - (7 - i) * DAY) }); // r1 6 days old … r6 1 day
    expect(await applyRetention(dest, { keepLast: 3 }, now)).toEqual(['r1', 'r2', 'r3']);
    expect((await listVersions(dest)).map((v) => v.runId)).toEqual(['r4', 'r5', 'r6']);
    expect(await allFiles()).not.toContainEqual(expect.stringMatching(/^v=r[123]\//));
    expect(await readdir(folder)).toEqual(['_latest.json', 'v=r4', 'v=r5', 'v=r6']);
    expect(await applyRetention(dest, { keepLast: 3 }, now)).toEqual([]);

    // The current version stays even when it is the oldest: r6 and r5 revoked (r4 current, 3 days old), then r7 and
    // r8 written and verified but never made current.
    await revokeVersion(dest, 'r6');
    await revokeVersion(dest, 'r5');
    await publish('r7', { createdAt: new Date(now.getTime() - 2 * 3600_000), pointer: false });
    await publish('r8', { createdAt: new Date(now.getTime() - 3600_000), pointer: false });
    expect(await currentVersion(dest)).toBe('r4');
    expect(await applyRetention(dest, { keepLast: 1 }, now)).toEqual(['r7']);
    expect(await applyRetention(dest, { keepLast: 0 }, now)).toEqual(['r8']);
    expect(await listVersions(dest)).toEqual([{ runId: 'r4', createdAt: new Date(now.getTime() - 3 * DAY), current: true }]);
  });

  it('retention by age deletes versions older than keepDays, never the current one, and combines with keepLast', async () => {
    const now = new Date('2030-06-15T12:00:00Z');
    const ages = { a: 10, b: 8, c: 5, d: 3, e: 1 }; // days
    for (const [runId, days] of Object.entries(ages)) await publish(runId, { createdAt: new Date(now.getTime() - days * DAY) });
    expect(await applyRetention(dest, { keepDays: 4, keepLast: 3 }, now)).toEqual(['a', 'b']); // c is 5 days old but among the last 3
    expect(await applyRetention(dest, { keepDays: 4 }, now)).toEqual(['c']);
    expect(await applyRetention(dest, { keepDays: 0.5 }, now)).toEqual(['d']); // e is 1 day old but current
    expect(await listVersions(dest)).toEqual([{ runId: 'e', createdAt: new Date(now.getTime() - DAY), current: true }]);
    expect(await applyRetention(dest, {}, now)).toEqual([]);
    await expect(applyRetention(dest, { keepLast: -1 }, now)).rejects.toThrow(/keepLast must be a whole number/);
  });

  it('revoking the current version repoints to the newest remaining good one, or removes the pointer', async () => {
    await publish('r1', { createdAt: new Date(Date.now() - 3000) });
    await publish('r2', { createdAt: new Date(Date.now() - 2000) });
    await publish('r3', { createdAt: new Date(Date.now() - 1000) });
    // r2 is corrupted: the revoke skips it.
    await writeFile(path.join(folder, 'v=r2', 'invoices-acme.csv'), 'tampered');
    expect(await revokeVersion(dest, 'r3')).toEqual({ deleted: 3, pointer: 'r1' });
    expect(readPointerFile().version).toBe('v=r1');
    expect(existsSync(path.join(folder, 'v=r3'))).toBe(false);
    expect(await revokeVersion(dest, 'r2')).toEqual({ deleted: 3, pointer: 'r1' });
    expect(await revokeVersion(dest, 'r2')).toEqual({ deleted: 0, pointer: 'r1' });
    expect(await revokeVersion(dest, 'r1')).toEqual({ deleted: 3, pointer: undefined });
    expect(existsSync(path.join(folder, '_latest.json'))).toBe(false);
    expect(await currentVersion(dest)).toBeUndefined();
    expect(await readdir(folder)).toEqual([]);
  });

  it('keys never leave the folder; local folders have no links; errors name the folder and the key, never a secret', async () => {
    const outside = path.join(root, 'exchange', 'secret.txt');
    await mkdir(path.dirname(outside), { recursive: true });
    await writeFile(outside, 'do not touch');
    for (const key of ['../secret.txt', 'v=1/../../secret.txt', '/etc/passwd', 'a//b', 'a\\..\\b', './a', 'a/']) {
      expect(() => dest.write(key), key).toThrow(/folder .*exchange\/invoices: the key .* (contains|starts with|is)/);
      await expect(dest.head(key), key).rejects.toThrow(/LastmileInputError|the key/);
      await expect(dest.delete([key]), key).rejects.toThrow(/the key/);
      await expect(dest.getJson(key), key).rejects.toThrow(/the key/);
      expect(() => dest.read(key), key).toThrow(/the key/);
    }
    await expect((async () => { for await (const _ of dest.list('../')) void _; })()).rejects.toThrow(/the key/);
    expect(readFileSync(outside, 'utf8')).toBe('do not touch');
    expect(() => versionPrefix('../x')).toThrow(/cannot name a version folder/);
    await expect(revokeVersion(dest, 'a/b')).rejects.toThrow(/cannot name a version folder/);

    try {
      dest.write('../x');
    } catch (error) {
      expect((error as Error).name).toBe('LastmileInputError');
    }

    await publish('r1');
    await expect(consumerLinks(dest, 'r1', ['partner_a'], 60)).rejects.toThrow(/is a local folder, which has no download links/);

    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    let message = '';
    try {
      await openDestination({ to: './exchange', credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: secret } }, { root });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/is a local folder, so `endpoint` and `credentials` do not apply/);
    expect(message).not.toContain(secret);
    expect(message).not.toContain('AKIAIOSFODNN7EXAMPLE');
    await expect(openDestination({ to: 'gs://bucket/x' }, { root })).rejects.toThrow(/neither a folder nor an s3:\/\/ bucket URL/);
    await expect(openDestination({ to: 'https://user:pw@host/x' }, { root })).rejects.toThrow(/^(?!.*pw@).*neither a folder/);
    // An unwritable folder: the error names it and the key.
    await writeFile(path.join(root, 'blocker'), 'a file where a folder should be');
    const blocked = await openDestination({ to: './blocker/sub' }, { root });
    const write = blocked.write('v=r/a.csv');
    write.stream.end('x');
    await expect(write.done()).rejects.toThrow(/folder .*blocker\/sub: could not write 'v=r\/a\.csv'/);
  });

  it('lists in key order with a plain string prefix, and deletes idempotently', async () => {
    for (const key of ['v=a/x-1.csv', 'v=a/x-2.csv', 'v=a/y.csv', 'v=a-b/z.csv', 'w.csv']) await dest.putJson(key, { key });
    const keys = async (prefix: string) => {
      const out: string[] = [];
      for await (const object of dest.list(prefix)) out.push(object.key);
      return out;
    };
    expect(await keys('')).toEqual(['v=a-b/z.csv', 'v=a/x-1.csv', 'v=a/x-2.csv', 'v=a/y.csv', 'w.csv']);
    expect(await keys('v=a/')).toEqual(['v=a/x-1.csv', 'v=a/x-2.csv', 'v=a/y.csv']);
    expect(await keys('v=a/x')).toEqual(['v=a/x-1.csv', 'v=a/x-2.csv']);
    expect(await keys('v=a')).toEqual(['v=a-b/z.csv', 'v=a/x-1.csv', 'v=a/x-2.csv', 'v=a/y.csv']);
    expect(await keys('nothing/')).toEqual([]);
    expect(await dest.getJson('w.csv')).toEqual({ key: 'w.csv' });
    expect(await dest.getJson('missing.json')).toBeUndefined();
    await dest.delete(['v=a/x-1.csv', 'v=a/x-1.csv', 'missing.csv']);
    expect(await keys('v=a/x')).toEqual(['v=a/x-2.csv']);
  });
});

/**
 * The reader, in a worker thread with plain synchronous fs calls (independent of the code under test): follow
 * `_latest.json`, read the manifest, read every file; sizes, sha256 and contents must all match.
 */
const READER = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
let stop = false;
parentPort.on('message', () => { stop = true; });
const failures = [];
let reads = 0;
function once() {
  const pointer = JSON.parse(fs.readFileSync(path.join(workerData.folder, '_latest.json'), 'utf8'));
  const manifest = JSON.parse(fs.readFileSync(path.join(workerData.folder, ...pointer.manifest.split('/')), 'utf8'));
  const runId = pointer.version.slice(2);
  if (manifest.runId !== runId) throw new Error('manifest of ' + manifest.runId + ' under ' + pointer.version);
  let rows = 0;
  for (const file of manifest.files) {
    const bytes = fs.readFileSync(path.join(workerData.folder, ...file.key.split('/')));
    if (bytes.length !== file.bytes) throw new Error(file.key + ': ' + bytes.length + ' bytes, manifest ' + file.bytes);
    if (crypto.createHash('sha256').update(bytes).digest('hex') !== file.sha256) throw new Error(file.key + ': sha256 differs');
    const lines = bytes.toString().split('\\n').filter(Boolean).slice(1);
    if (lines.length !== file.rows || lines.some((l) => !l.endsWith(',' + runId))) throw new Error(file.key + ': rows of another run');
    rows += lines.length;
  }
  if (rows !== manifest.rows) throw new Error('rows ' + rows + ' != ' + manifest.rows);
}
(async () => {
  while (!stop) {
    try { once(); reads++; } catch (error) { failures.push(String(error && error.message || error)); }
    await new Promise((resolve) => setImmediate(resolve));
  }
  parentPort.postMessage({ reads, failures });
})();
`;
