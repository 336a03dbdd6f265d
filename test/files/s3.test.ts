/**
 * Publishing versions to an S3-compatible bucket: the real AWS SDK client against a local server the test starts
 * (s3rver behind a front that verifies SigV4 and replaces objects atomically, test/support/s3-server.ts). Multipart
 * uploads with the sha256 metadata, HEAD-based verification, a concurrent reader, aborted and killed uploads,
 * retention, revocation, presigned links and their expiry, and errors that never show a credential.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli.js';
import { openDestination, type Destination } from '../../src/files/destination.js';
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
import { startS3Server, type S3TestServer } from '../support/s3-server.js';

const MiB = 1024 * 1024;
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

let server: S3TestServer;
/** An SDK client of the test's own, reading and tampering behind the destination's back. */
let raw: S3Client;
let dest: Destination;
let prefix: string;
let testNumber = 0;

beforeAll(async () => {
  server = await startS3Server({ bucket: 'exchange' });
  raw = new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: server.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});

afterAll(async () => {
  raw?.destroy();
  await server?.close();
});

beforeEach(async () => {
  // Each test publishes under a prefix of its own.
  prefix = `partners/t${++testNumber}`;
  dest = await open({});
});

function open(overrides: { credentials?: { accessKeyId: string; secretAccessKey: string }; to?: string; endpoint?: string }): Promise<Destination> {
  return openDestination(
    {
      to: overrides.to ?? `s3://${server.bucket}/${prefix}/`,
      endpoint: overrides.endpoint ?? server.endpoint,
      region: server.region,
      credentials: overrides.credentials ?? server.credentials,
    },
    { root: '/nowhere' },
  );
}

async function getText(key: string): Promise<string> {
  const response = await raw.send(new GetObjectCommand({ Bucket: server.bucket, Key: `${prefix}/${key}` }));
  return response.Body!.transformToString();
}

async function getBytes(key: string): Promise<Buffer> {
  const response = await raw.send(new GetObjectCommand({ Bucket: server.bucket, Key: `${prefix}/${key}` }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

async function keysInBucket(): Promise<string[]> {
  const listed = await raw.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: `${prefix}/` }));
  return (listed.Contents ?? []).map((o) => o.Key!.slice(prefix.length + 1)).sort();
}

async function unfinishedUploads(): Promise<string[]> {
  const listed = await raw.send(new ListMultipartUploadsCommand({ Bucket: server.bucket, Prefix: `${prefix}/` }));
  return (listed.Uploads ?? []).map((u) => u.Key!.slice(prefix.length + 1));
}

/** A file's bytes: its run id on every line, `size` bytes in all. */
function content(runId: string, size: number): Buffer {
  const line = `row of ${runId}\n`;
  return Buffer.from(line.repeat(Math.ceil(size / line.length))).subarray(0, size);
}

/** The protocol for one run, files given by name and size. */
async function publish(runId: string, files: Record<string, number>, options: { createdAt?: Date; pointer?: boolean } = {}): Promise<Manifest> {
  await cleanupIncomplete(dest, runId);
  const listed: Manifest['files'] = [];
  for (const [name, size] of Object.entries(files)) {
    const write = dest.write(`${versionPrefix(runId)}${name}`, { contentType: 'text/csv' });
    const bytes = content(runId, size);
    for (let offset = 0; offset < bytes.length; offset += MiB) {
      if (!write.stream.write(bytes.subarray(offset, offset + MiB))) await new Promise((resolve) => write.stream.once('drain', resolve));
    }
    write.stream.end();
    const info = await write.done();
    listed.push({ key: info.key, rows: Math.ceil(size / 10), bytes: info.bytes, sha256: info.sha256!, partition: name });
  }
  const manifest: Manifest = {
    product: 'invoices',
    version: '2.1.0',
    gitSha: null,
    target: 'partner_pack',
    runId,
    createdAt: (options.createdAt ?? new Date()).toISOString(),
    schema: [{ name: 'line', type: 'text' }],
    format: 'csv',
    compression: 'none',
    files: listed,
    rows: listed.reduce((sum, f) => sum + f.rows, 0),
    bytes: listed.reduce((sum, f) => sum + f.bytes, 0),
    checks: { blocked: false, results: [] },
  };
  await writeManifest(dest, manifest);
  const verified = await verifyVersion(dest, runId);
  if (!verified.ok) throw new Error(verified.problems.join('; '));
  if (options.pointer !== false) await movePointer(dest, runId);
  return manifest;
}

describe('publishing to an S3-compatible bucket', () => {
  it('publishes two versions with multipart uploads; sha256 metadata set; HEAD-based verification catches changed objects', async () => {
    const first = await publish('r1', { 'a.csv': 1000, 'empty.csv': 0 }, { createdAt: new Date(Date.now() - 1000) });
    expect(first.files[1]).toMatchObject({ key: 'v=r1/empty.csv', bytes: 0, sha256: sha256('') });
    const second = await publish('r2', { 'big.csv': 20 * MiB + 123, 'small.csv': 4321 });

    expect(JSON.parse(await getText('_latest.json'))).toEqual({ version: 'v=r2', manifest: 'v=r2/_manifest.json', publishedAt: expect.any(String) });
    expect(JSON.parse(await getText('v=r2/_manifest.json'))).toEqual(second);
    expect(second.files.map((f) => [f.key, f.bytes])).toEqual([
      ['v=r2/big.csv', 20 * MiB + 123],
      ['v=r2/small.csv', 4321],
    ]);
    for (const file of second.files) {
      const bytes = await getBytes(file.key);
      expect(sha256(bytes)).toBe(file.sha256);
      const head = await raw.send(new HeadObjectCommand({ Bucket: server.bucket, Key: `${prefix}/${file.key}` }));
      expect(head.Metadata).toEqual({ sha256: file.sha256 });
      expect(head.ContentType).toBe('text/csv');
    }
    expect(await keysInBucket()).toEqual([
      '_latest.json',
      'v=r1/_manifest.json',
      'v=r1/a.csv',
      'v=r1/empty.csv',
      'v=r2/_manifest.json',
      'v=r2/big.csv',
      'v=r2/small.csv',
    ]);
    expect(await currentVersion(dest)).toBe('r2');
    expect((await verifyVersion(dest, 'r2')).ok).toBe(true);
    expect(await dest.head('v=r2/small.csv')).toMatchObject({ key: 'v=r2/small.csv', bytes: 4321, sha256: second.files[1]!.sha256 });
    expect(server.refused).toBe(0); // every request so far carried a good SigV4 signature

    // Someone replaces objects behind the publisher's back.
    const put = (key: string, body: Buffer, metadata?: Record<string, string>) =>
      raw.send(new PutObjectCommand({ Bucket: server.bucket, Key: `${prefix}/${key}`, Body: body, Metadata: metadata }));
    await put('v=r2/small.csv', content('xx', 4000), { sha256: second.files[1]!.sha256 }); // other size, the old metadata
    let verified = await verifyVersion(dest, 'r2');
    expect(!verified.ok && verified.problems).toEqual(['v=r2/small.csv: 4000 bytes, but the manifest says 4321']);
    const other = content('xx', 4321);
    await put('v=r2/small.csv', other, { sha256: sha256(other) }); // same size, honest metadata
    verified = await verifyVersion(dest, 'r2');
    expect(!verified.ok && verified.problems).toEqual([`v=r2/small.csv: sha256 ${sha256(other)}, but the manifest says ${second.files[1]!.sha256}`]);
    await put('v=r2/small.csv', other); // same size, no metadata: the bytes are re-hashed
    verified = await verifyVersion(dest, 'r2');
    expect(!verified.ok && verified.problems).toEqual([`v=r2/small.csv: sha256 ${sha256(other)}, but the manifest says ${second.files[1]!.sha256}`]);
    await raw.send(new DeleteObjectCommand({ Bucket: server.bucket, Key: `${prefix}/v=r2/big.csv` }));
    verified = await verifyVersion(dest, 'r2');
    expect(!verified.ok && verified.problems[0]).toBe('v=r2/big.csv: missing');
  });

  it('a reader following _latest.json while 20 versions are published never sees a partial version', async () => {
    await publish('v00', { 'a.csv': 3000 });
    let reads = 0;
    const failures: string[] = [];
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        try {
          const pointer = JSON.parse(await getText('_latest.json')) as { version: string; manifest: string };
          const manifest = JSON.parse(await getText(pointer.manifest)) as Manifest;
          const runId = pointer.version.slice(2);
          if (manifest.runId !== runId) throw new Error(`manifest of ${manifest.runId} under ${pointer.version}`);
          for (const file of manifest.files) {
            const bytes = await getBytes(file.key);
            if (bytes.length !== file.bytes || sha256(bytes) !== file.sha256) throw new Error(`${file.key}: not the bytes of the manifest`);
            if (!bytes.toString().startsWith(`row of ${runId}\n`)) throw new Error(`${file.key}: bytes of another run`);
          }
          reads++;
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    })();
    for (let i = 1; i <= 20; i++) {
      const files: Record<string, number> = { 'a.csv': 3000 + 97 * i };
      if (i % 2 === 0) files['b.csv'] = 500 * i;
      await publish(`v${String(i).padStart(2, '0')}`, files);
    }
    stop = true;
    await reader;
    expect(failures).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    expect(await currentVersion(dest)).toBe('v20');
  });

  it('an aborted upload leaves nothing; a killed one is swept by cleanupIncomplete; the previous version stays current', async () => {
    await publish('r1', { 'a.csv': 2000 });
    const aborted = dest.write('v=r2/big.csv');
    aborted.stream.write(Buffer.alloc(9 * MiB, 'x')); // more than one part: a multipart upload is under way
    await new Promise((resolve) => setTimeout(resolve, 300));
    await aborted.abort();
    await expect(aborted.done()).rejects.toThrow(/aborted/);
    expect(await dest.head('v=r2/big.csv')).toBeUndefined();
    expect(await unfinishedUploads()).toEqual([]);

    // A worker killed mid-upload: its multipart upload stays unfinished, invisible to listings.
    const killed = dest.write('v=r2/other.csv');
    killed.stream.write(Buffer.alloc(9 * MiB, 'y'));
    for (let i = 0; i < 50 && (await unfinishedUploads()).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await unfinishedUploads()).toEqual(['v=r2/other.csv']);
    await dest.putJson('v=r2/_manifest.json', { half: 'written' });
    await expect(movePointer(dest, 'r2')).rejects.toThrow(/v=r2 has no valid manifest/);
    expect(await currentVersion(dest)).toBe('r1');

    expect(await cleanupIncomplete(dest, 'r2')).toBe(2); // the manifest and the unfinished upload
    expect(await unfinishedUploads()).toEqual([]);
    expect(await keysInBucket()).toEqual(['_latest.json', 'v=r1/_manifest.json', 'v=r1/a.csv']);
    killed.stream.destroy();
    await expect(killed.done()).rejects.toThrow();
    expect(await currentVersion(dest)).toBe('r1');
  });

  it('retention keeps the last 3 of 6 versions and those younger than keepDays', async () => {
    const now = new Date();
    for (let i = 1; i <= 6; i++) await publish(`r${i}`, { 'a.csv': 100 * i }, { createdAt: new Date(now.getTime() - (7 - i) * 86_400_000) });
    expect(await applyRetention(dest, { keepLast: 3 }, now)).toEqual(['r1', 'r2', 'r3']);
    expect(await keysInBucket()).toEqual([
      '_latest.json',
      'v=r4/_manifest.json',
      'v=r4/a.csv',
      'v=r5/_manifest.json',
      'v=r5/a.csv',
      'v=r6/_manifest.json',
      'v=r6/a.csv',
    ]);
    expect(await applyRetention(dest, { keepDays: 2.5 }, now)).toEqual(['r4']);
    expect(await applyRetention(dest, { keepDays: 2.5 }, now)).toEqual([]);
    expect((await listVersions(dest)).map((v) => [v.runId, v.current])).toEqual([
      ['r5', false],
      ['r6', true],
    ]);
  });

  it('revoking the current version repoints to the previous; presigned links download the bytes and expire', async () => {
    await publish('r1', { 'a.csv': 1500 }, { createdAt: new Date(Date.now() - 1000) });
    const second = await publish('r2', { 'a.csv': 2500, 'b.csv': 700 });

    const links = await consumerLinks(dest, 'r2', ['acme', 'globex'], 2);
    expect(Object.keys(links)).toEqual(['acme', 'globex']);
    for (const consumer of ['acme', 'globex']) {
      expect(links[consumer]!.map((l) => l.key)).toEqual(['v=r2/a.csv', 'v=r2/b.csv']);
      for (const link of links[consumer]!) {
        expect(new URL(link.url).searchParams.get('X-Amz-Expires')).toBe('2');
        expect(Date.parse(link.expiresAt) - Date.now()).toBeLessThanOrEqual(2000);
        const response = await fetch(link.url);
        expect(response.status).toBe(200);
        const bytes = Buffer.from(await response.arrayBuffer());
        expect(sha256(bytes)).toBe(second.files.find((f) => f.key === link.key)!.sha256);
      }
    }
    const link = links.acme![0]!.url;
    const tampered = link.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
    expect((await fetch(tampered)).status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 3100));
    const expired = await fetch(link);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');

    expect(await revokeVersion(dest, 'r2')).toEqual({ deleted: 3, pointer: 'r1' });
    expect(JSON.parse(await getText('_latest.json')).version).toBe('v=r1');
    expect(await keysInBucket()).toEqual(['_latest.json', 'v=r1/_manifest.json', 'v=r1/a.csv']);
    const fresh = await consumerLinks(dest, 'r1', ['acme'], 60);
    expect((await fetch(fresh.acme![0]!.url)).status).toBe(200);
    await expect(consumerLinks(dest, 'r2', ['acme'], 60)).rejects.toThrow(/v=r2 has no valid manifest/);
    await expect(consumerLinks(dest, 'r1', ['acme'], 8 * 86_400)).rejects.toThrow(/whole number of seconds from 1 to 7 days \(604800\), not 691200/);
  });

  it('errors name the bucket and the key, never a credential; wrong credentials are not retried', async () => {
    const secret = server.credentials.secretAccessKey;
    const keyId = server.credentials.accessKeyId;
    expect(dest.description).toBe(`s3://exchange/${prefix} (endpoint ${server.endpoint})`);

    const wrongSecret = await open({ credentials: { accessKeyId: keyId, secretAccessKey: `${secret.slice(0, -4)}AAAA` } });
    const wrongKey = await open({ credentials: { accessKeyId: 'AKIANOTKNOWN0000', secretAccessKey: secret } });
    const refused = server.refused;
    const failures: Error[] = [];
    for (const destination of [wrongSecret, wrongKey]) {
      for (const attempt of [
        () => destination.putJson('v=r1/_manifest.json', { a: 1 }),
        () => destination.head('v=r1/a.csv'),
        () => destination.getJson('_latest.json'),
        () => destination.delete(['v=r1/a.csv']),
      ]) {
        failures.push(await attempt().then(() => new Error('no error'), (error: Error) => error));
      }
    }
    expect(server.refused).toBeGreaterThan(refused);
    for (const failure of failures) {
      expect(failure.message).toMatch(new RegExp(`^s3://exchange/${prefix} \\(endpoint http://127\\.0\\.0\\.1:\\d+\\): could not`));
      expect(failure.message).not.toContain(secret);
      expect(failure.message).not.toContain(secret.slice(0, -4));
      expect(failure.message).not.toContain(keyId);
      expect(JSON.stringify(failure)).not.toContain(secret.slice(0, -4));
    }
    // HEAD answers carry no body, so their error is a bare 403; the others say what is wrong, and are final.
    expect(failures[0]!.message).toMatch(/could not upload 'v=r1\/_manifest\.json': SignatureDoesNotMatch .* Check the access key pair/);
    expect(failures[0]!.name).toBe('LastmileInputError');
    expect(failures[6]!.message).toMatch(/could not read '_latest\.json': InvalidAccessKeyId/);
    expect(failures[6]!.name).toBe('LastmileInputError');

    const missingBucket = await open({ to: 's3://no-such-bucket/x' });
    await expect(missingBucket.putJson('a.json', {})).rejects.toThrow(/s3:\/\/no-such-bucket\/x .*could not upload 'a\.json': NoSuchBucket.*Create the bucket/);
    const withUserInfo = await open({ endpoint: server.endpoint.replace('http://', 'http://user:hunter2@') });
    expect(withUserInfo.description).not.toContain('hunter2');
    await expect(open({ to: 's3://Bad_Bucket/x' })).rejects.toThrow(/does not name a bucket/);
    await expect(open({ to: 's3://exchange/a/../b' })).rejects.toThrow(/contains '\.\.'/);
    expect(() => dest.write('../../escape.csv')).toThrow(/s3:\/\/exchange\/.*: the key "..\/..\/escape.csv" contains '..'/);
  });
});

describe('the S3 destination module', () => {
  it('changes nothing in process.env when imported', async () => {
    const { execFileSync } = await import('node:child_process');
    const script = [
      "const before = JSON.stringify(process.env);",
      "await import('./src/files/destinations/s3.ts');",
      "await import('./src/files/destination.ts');",
      "process.stdout.write(String(before === JSON.stringify(process.env)));",
    ].join('\n');
    const env = { ...process.env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, env }).toString();
    expect(out).toBe('true');
  });
});
