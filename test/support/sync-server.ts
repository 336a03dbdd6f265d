/**
 * A stand-in reverse ETL destination for tests (node:http on 127.0.0.1, a free port), the receiving side of the HTTP
 * contract `src/reverse-etl/destinations/http.ts` speaks:
 * - POST / PUT / PATCH `/sync` with `Authorization: Bearer <token>`, `Idempotency-Key`, `Content-Type: application/json`
 *   and `{ idempotencyKey, batch, operations: [{ op, key, record, id? }] }` → 200 (207 when a row is rejected or
 *   transient) `{ results: [{ index, status, reason?, id? }] }`; a malformed body → 400 `{ error }` without results;
 * - records live in memory, keyed by the key's JSON with its fields sorted; an applied response is stored per
 *   Idempotency-Key and a repeat gets it back (`Idempotent-Replayed: true`) without anything being applied again;
 * - a 401 quotes the token it was sent, as careless APIs do, so tests can check no secret reaches a message;
 * - faults, deterministic and changeable at run time: a sliding one-second rate limit (429 + Retry-After), failing,
 *   stalling (applied, answered late), dropping (applied, socket destroyed), canned answers, per-row rejections,
 *   per-row transients, results left out.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { keyId, parseOperations, SyncRecords, type Operation, type Result, type StoredRecord } from './sync-records.js';

export { keyId, type KeyValue, type Operation, type Result, type StoredRecord, type SyncOpName } from './sync-records.js';

/** Retry-After of a 429: seconds (`'1'`, `'0.2'`) or an HTTP date; a function computes it per answer. */
export type RetryAfter = string | (() => string);
type RowRule = (op: Operation, index: number) => string | undefined;

export interface SyncServerOptions {
  /** the bearer token required (default: a random one); `false`: none checked */
  token?: string | false;
  /** at most this many requests are accepted in any sliding second; more get 429 and nothing applied */
  rateLimit?: number;
  retryAfter?: RetryAfter;
  /** rows answered `rejected` with the returned reason (nothing applied) */
  rejectWhen?: RowRule;
  /** rows answered `transient` with the returned reason, the first `transientTimes` times per record key (default 1) */
  transientWhen?: RowRule;
  transientTimes?: number;
  /** rows applied but left out of the answer's results */
  omitResults?: (op: Operation, index: number) => boolean;
}

export interface SyncCounts {
  requests: number;
  byStatus: Record<number, number>;
  /** connections destroyed by `dropNext` */
  dropped: number;
  /** rows whose status was `applied` (repeats not counted) */
  rowsApplied: number;
  /** requests repeating an Idempotency-Key already applied */
  duplicates: number;
  /** the most requests of any kind received within one second */
  maxPerSecond: number;
}

export interface SyncServer {
  /** `http://127.0.0.1:<port>/sync` */
  url: string;
  /** the token to send; undefined when none is checked */
  token: string | undefined;
  counts: SyncCounts;
  /** the records held, in the order they were created */
  records(): StoredRecord[];
  /** how many times the batch under this Idempotency-Key was applied (0 or 1 unless the server is broken) */
  applicationsOf(idempotencyKey: string): number;
  applications(): ReadonlyMap<string, number>;
  /**
   * The most requests received within any `windowMs` since the start (or `resetCounts`): a window a little under a
   * second tells a client's pace from the few milliseconds each request takes to arrive.
   */
  maxWithin(windowMs: number): number;
  /** zeroes the counters and both one-second windows (records and stored responses stay) */
  resetCounts(): void;
  limitRate(perSecond: number | undefined, retryAfter?: RetryAfter): void;
  /** answer the next `n` requests with `status` (default 503) and apply nothing */
  failNext(n: number, status?: number): void;
  /** apply the next `n` batches, then wait `ms` before answering */
  stallNext(n: number, ms: number): void;
  /** apply the next `n` batches, then destroy the connection without answering */
  dropNext(n: number): void;
  /** answer the next `n` requests with exactly this and apply nothing */
  answerNext(n: number, answer: { status: number; body: string; headers?: Record<string, string> }): void;
  rejectWhen(rule: RowRule | undefined): void;
  transientWhen(rule: RowRule | undefined, times?: number): void;
  omitResults(rule: ((op: Operation, index: number) => boolean) | undefined): void;
  close(): Promise<void>;
}

export async function startSyncServer(options: SyncServerOptions = {}): Promise<SyncServer> {
  const token = options.token === false ? undefined : (options.token ?? `tok_${randomBytes(12).toString('hex')}`);
  let rate = options.rateLimit;
  let retryAfter: RetryAfter = options.retryAfter ?? '1';
  let rejectRule = options.rejectWhen;
  let transientRule = options.transientWhen;
  let transientTimes = options.transientTimes ?? 1;
  let omitRule = options.omitResults;
  const faults = { fail: 0, failStatus: 503, stall: 0, stallMs: 0, drop: 0, answer: 0 };
  let canned: { status: number; body: string; headers?: Record<string, string> } = { status: 200, body: '' };
  const store = new SyncRecords();
  const responses = new Map<string, { status: number; body: string }>();
  const applications = new Map<string, number>();
  const transientSeen = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let accepted: number[] = [];
  let seen: number[] = [];
  let arrivals: number[] = [];
  const counts: SyncCounts = { requests: 0, byStatus: {}, dropped: 0, rowsApplied: 0, duplicates: 0, maxPerSecond: 0 };

  const applyOne = (op: Operation, index: number): Result => {
    const rejected = rejectRule?.(op, index);
    if (rejected !== undefined) return { index, status: 'rejected', reason: rejected };
    const id = keyId(op.key);
    const transient = transientRule?.(op, index);
    if (transient !== undefined && (transientSeen.get(id) ?? 0) < transientTimes) {
      transientSeen.set(id, (transientSeen.get(id) ?? 0) + 1);
      return { index, status: 'transient', reason: transient };
    }
    return store.apply(op, index);
  };

  /** What to answer; `applied`: the batch was applied (or replayed), so a stall or a drop may follow. */
  const handle = (req: http.IncomingMessage, raw: Buffer): { status: number; body: string; headers?: Record<string, string>; applied?: boolean } => {
    const error = (status: number, message: string) => ({ status, body: JSON.stringify({ error: message }) });
    const now = Date.now();
    seen = seen.filter((at) => at > now - 1000);
    seen.push(now);
    arrivals.push(now);
    counts.maxPerSecond = Math.max(counts.maxPerSecond, seen.length);
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/sync') return error(404, 'no such endpoint');
    if (!['POST', 'PUT', 'PATCH'].includes(req.method ?? '')) return error(405, `method ${req.method} not allowed`);
    if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) {
      return error(401, `unauthorized: the token in ${JSON.stringify(req.headers.authorization ?? '')} is not accepted`);
    }
    if (rate !== undefined) {
      accepted = accepted.filter((at) => at > now - 1000);
      if (accepted.length >= rate) {
        return { ...error(429, 'too many requests'), headers: { 'retry-after': typeof retryAfter === 'function' ? retryAfter() : retryAfter } };
      }
      accepted.push(now);
    }
    if (faults.fail > 0) {
      faults.fail -= 1;
      return error(faults.failStatus, 'failing on purpose');
    }
    if (faults.answer > 0) {
      faults.answer -= 1;
      return canned;
    }
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return error(415, 'Content-Type must be application/json');
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key === '') return error(400, 'the Idempotency-Key header is missing');
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as unknown;
    } catch {
      return error(400, 'the body is not UTF-8 JSON');
    }
    const operations = parseOperations(body, key);
    if (typeof operations === 'string') return error(400, operations);
    const stored = responses.get(key);
    if (stored) {
      counts.duplicates += 1;
      return { ...stored, headers: { 'idempotent-replayed': 'true' }, applied: true };
    }
    const results = operations.map(applyOne);
    counts.rowsApplied += results.filter((result) => result.status === 'applied').length;
    const shown = results.filter((result) => !omitRule?.(operations[result.index], result.index));
    const status = results.every((result) => result.status === 'applied' || result.status === 'unchanged') ? 200 : 207;
    const response = { status, body: JSON.stringify({ results: shown }) };
    responses.set(key, response);
    applications.set(key, (applications.get(key) ?? 0) + 1);
    return { ...response, applied: true };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      counts.requests += 1;
      const answer = handle(req, Buffer.concat(chunks));
      const send = () => {
        if (res.destroyed || req.socket.destroyed) return;
        counts.byStatus[answer.status] = (counts.byStatus[answer.status] ?? 0) + 1;
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body);
      };
      if (answer.applied && faults.drop > 0) {
        faults.drop -= 1;
        counts.dropped += 1;
        req.socket.destroy();
      } else if (answer.applied && faults.stall > 0) {
        faults.stall -= 1;
        const timer = setTimeout(() => {
          timers.delete(timer);
          send();
        }, faults.stallMs);
        timers.add(timer);
      } else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sync`,
    token,
    counts,
    records: () => store.list(),
    applicationsOf: (idempotencyKey) => applications.get(idempotencyKey) ?? 0,
    applications: () => applications,
    maxWithin: (windowMs) => Math.max(0, ...arrivals.map((start, index) => arrivals.slice(index).filter((at) => at < start + windowMs).length)),
    resetCounts: () => {
      Object.assign(counts, { requests: 0, byStatus: {}, dropped: 0, rowsApplied: 0, duplicates: 0, maxPerSecond: 0 });
      accepted = [];
      seen = [];
      arrivals = [];
    },
    limitRate: (perSecond, after) => {
      rate = perSecond;
      if (after !== undefined) retryAfter = after;
    },
    failNext: (n, status = 503) => Object.assign(faults, { fail: n, failStatus: status }),
    stallNext: (n, ms) => Object.assign(faults, { stall: n, stallMs: ms }),
    dropNext: (n) => Object.assign(faults, { drop: n }),
    answerNext: (n, answer) => {
      faults.answer = n;
      canned = answer;
    },
    rejectWhen: (rule) => {
      rejectRule = rule;
    },
    transientWhen: (rule, times = 1) => {
      transientRule = rule;
      transientTimes = times;
    },
    omitResults: (rule) => {
      omitRule = rule;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
