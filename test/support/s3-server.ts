/**
 * A local S3-compatible server for tests: s3rver (which runs on Node 20) behind a small front that adds what s3rver
 * lacks and the tests rely on:
 * - SigV4 is verified against the server's one key pair, for the Authorization header and for presigned URLs
 *   (including their expiry); s3rver itself only looks the access key id up and never checks a signature;
 * - an object is replaced atomically, as on S3: s3rver truncates and rewrites an object's file in place, so a
 *   concurrent GET could read half of it; here mutations wait for reads in flight and reads for mutations (one
 *   readers-writer lock over the bucket);
 * - ListMultipartUploads and AbortMultipartUpload, which s3rver does not implement, answered from s3rver's upload folder.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as S3rverClass;
const Account = require('s3rver/lib/models/account') as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } };

export interface S3TestServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  region: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** where s3rver keeps the bucket's files */
  directory: string;
  /** requests refused for their signature, key id or expiry */
  refused: number;
  close(): Promise<void>;
}

export async function startS3Server(options: { bucket?: string; region?: string } = {}): Promise<S3TestServer> {
  const bucket = options.bucket ?? 'exchange';
  const region = options.region ?? 'eu-central-1';
  const credentials = { accessKeyId: `AKIATEST${randomBytes(6).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64') };
  const directory = await mkdtemp(path.join(os.tmpdir(), 'lastmile-s3-'));
  Account.DUMMY_ACCOUNT.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
  const backend = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const backendPort = (await backend.run()).port;
  const uploadsDir = path.join(directory, bucket, '._S3rver_uploads');
  const lock = new ReadersWriterLock();

  const state: S3TestServer = {
    endpoint: '',
    region,
    bucket,
    credentials,
    directory,
    refused: 0,
    close: async () => {
      const closed = new Promise<void>((resolve) => front.close(() => resolve()));
      front.closeAllConnections();
      await closed;
      await backend.close();
      await rm(directory, { recursive: true, force: true });
    },
  };

  const front = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, req.method!, 500, 'InternalError', String(error));
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const rawPath = req.url!.split('?')[0]!;
    const query = new URL(req.url!, 'http://front').searchParams;

    const problem = verifySignature(req, rawPath, query, body, credentials);
    if (problem) {
      state.refused++;
      return sendError(res, req.method!, 403, problem.code, problem.message);
    }

    // What s3rver lacks: listing and aborting unfinished multipart uploads.
    if (req.method === 'GET' && (rawPath === `/${bucket}` || rawPath === `/${bucket}/`) && query.has('uploads')) {
      return sendXml(res, await listUploads(uploadsDir, bucket, query.get('prefix') ?? ''));
    }
    if (req.method === 'DELETE' && query.has('uploadId')) {
      const dir = path.join(uploadsDir, path.basename(query.get('uploadId')!));
      if (!(await stat(dir).catch(() => undefined))) return sendError(res, 'DELETE', 404, 'NoSuchUpload', 'The specified upload does not exist.');
      await rm(dir, { recursive: true, force: true });
      res.writeHead(204).end();
      return;
    }

    // The answer is read whole before the lock is released, so a client that never reads a body blocks nobody.
    const release = await lock.acquire(req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write');
    const headers = { ...req.headers, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    delete headers.expect;
    let answer: { status: number; headers: http.IncomingHttpHeaders; body: Buffer };
    try {
      answer = await new Promise((resolve, reject) => {
        const forward = http.request({ host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers }, (response) => {
          const parts: Buffer[] = [];
          response.on('data', (part: Buffer) => parts.push(part));
          response.on('end', () => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: Buffer.concat(parts) }));
          response.on('error', reject);
        });
        forward.on('error', reject);
        forward.end(body);
      });
    } finally {
      release();
    }
    res.writeHead(answer.status, answer.headers);
    res.end(req.method === 'HEAD' ? undefined : answer.body);
  }

  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  state.endpoint = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  return state;
}

/** SigV4 of a request (Authorization header or presigned query); undefined when it is good. */
function verifySignature(
  req: http.IncomingMessage,
  rawPath: string,
  query: URLSearchParams,
  body: Buffer,
  credentials: { accessKeyId: string; secretAccessKey: string },
): { code: string; message: string } | undefined {
  let credential: string;
  let signedHeaders: string;
  let signature: string;
  let amzDate: string;
  let payloadHash: string;
  const presigned = query.has('X-Amz-Algorithm');
  if (presigned) {
    if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return { code: 'AuthorizationQueryParametersError', message: 'Only AWS4-HMAC-SHA256' };
    credential = query.get('X-Amz-Credential') ?? '';
    signedHeaders = query.get('X-Amz-SignedHeaders') ?? '';
    signature = query.get('X-Amz-Signature') ?? '';
    amzDate = query.get('X-Amz-Date') ?? '';
    const expires = Number(query.get('X-Amz-Expires'));
    if (!(expires > 0) || Date.now() > amzTime(amzDate) + expires * 1000) return { code: 'AccessDenied', message: 'Request has expired' };
    payloadHash = 'UNSIGNED-PAYLOAD';
  } else {
    const match = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(req.headers.authorization ?? '');
    if (!match) return { code: 'AccessDenied', message: 'Anonymous or unsupported authentication is refused' };
    [, credential = '', signedHeaders = '', signature = ''] = match;
    amzDate = String(req.headers['x-amz-date'] ?? '');
    payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
    if (payloadHash === '') return { code: 'InvalidRequest', message: 'Missing x-amz-content-sha256' };
    if (/^[0-9a-f]{64}$/.test(payloadHash) && createHash('sha256').update(body).digest('hex') !== payloadHash) {
      return { code: 'XAmzContentSHA256Mismatch', message: "The provided 'x-amz-content-sha256' header does not match what was computed." };
    }
    if (!(Math.abs(Date.now() - amzTime(amzDate)) < 15 * 60_000)) return { code: 'RequestTimeTooSkewed', message: 'The difference between the request time and the server time is too large.' };
  }
  const [keyId, day, region, service, terminator] = credential.split('/');
  if (keyId !== credentials.accessKeyId) return { code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
  if (!day || !region || service !== 's3' || terminator !== 'aws4_request') return { code: 'AuthorizationHeaderMalformed', message: 'Bad credential scope' };

  const canonicalQuery = [...query.entries()]
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((name) => `${name}:${String(req.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [req.method, rawPath, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  let key: Buffer = Buffer.from(`AWS4${credentials.secretAccessKey}`);
  for (const part of [day, region, 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return {
      code: 'SignatureDoesNotMatch',
      message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    };
  }
  return undefined;
}

/** `20240101T120000Z` → ms */
function amzTime(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : Number.NaN;
}

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

async function listUploads(uploadsDir: string, bucket: string, prefix: string): Promise<string> {
  const entries: string[] = [];
  for (const uploadId of await readdir(uploadsDir).catch(() => [] as string[])) {
    const key = await readFile(path.join(uploadsDir, uploadId, 'key'), 'utf8').catch(() => undefined);
    if (key === undefined || !key.startsWith(prefix)) continue;
    const initiated = (await stat(path.join(uploadsDir, uploadId))).mtime.toISOString();
    entries.push(`<Upload><Key>${xml(key)}</Key><UploadId>${xml(uploadId)}</UploadId><Initiated>${initiated}</Initiated></Upload>`);
  }
  return (
    `<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${xml(bucket)}</Bucket>` +
    `<Prefix>${xml(prefix)}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${entries.join('')}</ListMultipartUploadsResult>`
  );
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function sendXml(res: http.ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function sendError(res: http.ServerResponse, method: string, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(method === 'HEAD' ? undefined : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xml(message)}</Message></Error>`);
}

/** Many readers or one writer, first come first served. */
class ReadersWriterLock {
  private readers = 0;
  private writer = false;
  private readonly waiting: { write: boolean; grant: () => void }[] = [];

  acquire(mode: 'read' | 'write'): Promise<() => void> {
    return new Promise((resolve) => {
      const write = mode === 'write';
      this.waiting.push({
        write,
        grant: () =>
          resolve(() => {
            if (write) this.writer = false;
            else this.readers--;
            this.next();
          }),
      });
      this.next();
    });
  }

  private next(): void {
    while (this.waiting.length > 0 && !this.writer) {
      const head = this.waiting[0]!;
      if (head.write && this.readers > 0) return;
      this.waiting.shift();
      if (head.write) this.writer = true;
      else this.readers++;
      head.grant();
    }
  }
}
