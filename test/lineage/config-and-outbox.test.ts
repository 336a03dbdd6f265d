/**
 * The parts under the end-to-end test: the `lineage` block of lastmile.config.ts (defaults, per-environment
 * overrides, errors that name the field and the fix, no secret echoed), the run UUID, the receiver's schema check
 * itself (an invalid event is caught), and the outbox on a real PostgreSQL — one START and one end event per run,
 * order kept behind a failed send, and an event the receiver refuses for good set aside instead of blocking the rest.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineConfig, formatProblems, secret, validateConfig } from '../../src/index.js';
import type { Problem } from '../../src/index.js';
import { migrate } from '../../src/meta/index.js';
import { deliverPending, lineageOf, lineageRunId, listLineageEvents, PRODUCER, recordLineageEvent, RUN_EVENT_SCHEMA_URL, sendLineageEvent, type RunEvent } from '../../src/lineage/index.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/warehouse/embedded.js';
import { createCliProject, type CliProject } from '../support/cli.js';
import { startLineageReceiver } from '../support/openlineage/receiver.js';

function validate(spec: Record<string, unknown>) {
  return validateConfig(defineConfig({ environments: { dev: {}, prod: {} }, promotion: ['dev', 'prod'], ...spec } as Parameters<typeof defineConfig>[0]));
}

function problemAt(problems: readonly Problem[], path: string): Problem {
  const problem = problems.find((candidate) => candidate.path === path);
  expect(problem, formatProblems(problems)).toBeDefined();
  return problem!;
}

describe('lineage in lastmile.config.ts', () => {
  it('applies to every environment, namespace lastmile/<env> by default; an environment overrides fields or turns it off', () => {
    const { config, problems } = validate({
      lineage: { url: 'http://marquez.internal:5000/', apiKey: secret('LINEAGE_API_KEY') },
      environments: { dev: { lineage: { enabled: false } }, test: {}, prod: { lineage: { url: 'https://lineage.example.com', namespace: 'retail-prod', timeout: '30s' } } },
      promotion: ['dev', 'test', 'prod'],
    });
    expect(problems).toEqual([]);
    expect(lineageOf(config!, 'dev')).toBeUndefined();
    expect(lineageOf(config!, 'test')).toEqual({ endpoint: 'http://marquez.internal:5000/api/v1/lineage', namespace: 'lastmile/test', apiKey: { kind: 'secret', env: 'LINEAGE_API_KEY' }, timeoutMs: 10_000 });
    expect(lineageOf(config!, 'prod')).toEqual({ endpoint: 'https://lineage.example.com/api/v1/lineage', namespace: 'retail-prod', apiKey: { kind: 'secret', env: 'LINEAGE_API_KEY' }, timeoutMs: 30_000 });
    expect(lineageOf(validate({}).config!, 'prod')).toBeUndefined();
    expect(lineageOf(validate({ lineage: { url: 'http://datahub:8080', endpoint: 'openapi/openlineage/api/v1/lineage' } }).config!, 'dev')?.endpoint).toBe('http://datahub:8080/openapi/openlineage/api/v1/lineage');
  });

  it('names the field and the fix: not http(s), credentials or a token in the URL (never echoed), the endpoint written into url, a bad namespace, no url', () => {
    expect(problemAt(validate({ lineage: { url: 'marquez:5000' } }).problems, 'lineage.url').message).toMatch(/'url' is not an http\(s\) URL/);
    const withPassword = validate({ lineage: { url: 'https://ol:Sup3rS3cret@lineage.example.com' } }).problems;
    // the config's literal-secret scan answers first, for every field alike
    expect(problemAt(withPassword, 'lineage.url').fix).toMatch(/remove the user:password part/);
    expect(formatProblems(withPassword)).not.toContain('Sup3rS3cret');
    const withToken = validate({ lineage: { url: 'https://lineage.example.com/?api_key=abcdef123456' } }).problems;
    expect(problemAt(withToken, 'lineage.url').message).toMatch(/carries a token/);
    expect(formatProblems(withToken)).not.toContain('abcdef123456');
    const full = problemAt(validate({ lineage: { url: 'http://marquez:5000/api/v1/lineage' } }).problems, 'lineage.url');
    expect(full.message).toMatch(/ends with \/api\/v1\/lineage/);
    expect(full.fix).toMatch(/url: 'http:\/\/marquez:5000'/);
    expect(problemAt(validate({ lineage: { url: 'http://m:5000', namespace: 'lastmile prod!' } }).problems, 'lineage.namespace').message).toMatch(/not a valid OpenLineage namespace/);
    expect(problemAt(validate({ lineage: { url: 'http://m:5000', apiKey: 'tok' } }).problems, 'lineage.apiKey')).toBeDefined();
    const noUrl = problemAt(validate({ environments: { dev: {}, prod: { lineage: { namespace: 'p' } } } }).problems, 'environments.prod.lineage.url');
    expect(noUrl.fix).toMatch(/add url: .*or enabled: false/);
    expect(problemAt(validate({ environments: { dev: { lineage: { nmespace: 'x' } }, prod: {} } }).problems, 'environments.dev.lineage.nmespace')).toBeDefined();
  });

  it('maps a run id to the same version-5 UUID every time, and different runs to different ones', () => {
    expect(lineageRunId('run-a')).toBe(lineageRunId('run-a'));
    expect(lineageRunId('run-a')).not.toBe(lineageRunId('run-b'));
    expect(lineageRunId('run-a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

const eventOf = (runId: string, eventType: RunEvent['eventType']): RunEvent => ({
  eventType,
  eventTime: new Date().toISOString(),
  producer: PRODUCER,
  schemaURL: RUN_EVENT_SCHEMA_URL,
  run: { runId: lineageRunId(runId) },
  job: { namespace: 'lastmile/dev', name: 'p' },
  inputs: [],
  outputs: [],
});

describe('the test receiver', () => {
  it('catches what the schemas forbid: a run id that is no UUID, an unknown event type, a facet without _producer or off its schema', async () => {
    const receiver = await startLineageReceiver();
    try {
      const post = (body: unknown) => fetch(`${receiver.url}/api/v1/lineage`, { method: 'POST', body: JSON.stringify(body) });
      await post(eventOf('ok', 'START'));
      await post({ ...eventOf('x', 'START'), run: { runId: 'not-a-uuid' } });
      await post({ ...eventOf('x', 'START'), eventType: 'BEGIN' });
      await post({ ...eventOf('x', 'START'), job: { namespace: 'n', name: 'p', facets: { documentation: { description: 'd' } } } });
      await post({
        ...eventOf('x', 'START'),
        outputs: [{ namespace: 'n', name: 'd', facets: { schema: { _producer: PRODUCER, _schemaURL: 'https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet', fields: [{ type: 'text' }] } } }],
      });
      expect(receiver.accepted.map((e) => e.errors.length > 0)).toEqual([false, true, true, true, true]);
    } finally {
      await receiver.close();
    }
  });
});

describe('the outbox', () => {
  let project: CliProject;
  let server: EmbeddedPostgresHandle;
  let pool: pg.Pool;

  beforeAll(async () => {
    project = await createCliProject({ products: 'none' });
    server = await startEmbeddedPostgres({ dataDir: project.dataDir });
    await server.ensureDatabase('outbox');
    pool = new pg.Pool({ connectionString: server.urlFor('outbox'), max: 3 });
    await migrate(pool);
  }, 60_000);

  afterAll(async () => {
    await pool?.end();
    await server?.stop();
    await project?.remove();
  });

  it('records one START and one end event per run, however often the step repeats', async () => {
    expect(await recordLineageEvent(pool, { env: 'dev', runId: 'r1', event: eventOf('r1', 'START') })).toBe(true);
    expect(await recordLineageEvent(pool, { env: 'dev', runId: 'r1', event: eventOf('r1', 'START') })).toBe(false);
    expect(await recordLineageEvent(pool, { env: 'dev', runId: 'r1', event: eventOf('r1', 'COMPLETE') })).toBe(true);
    // a run closed again later (interrupted → canceled) gets no second end event
    expect(await recordLineageEvent(pool, { env: 'dev', runId: 'r1', event: eventOf('r1', 'ABORT') })).toBe(false);
    expect((await listLineageEvents(pool, { runId: 'r1' })).map((e) => e.eventType)).toEqual(['START', 'COMPLETE']);
    await pool.query(`delete from lastmile.lineage_events`);
  });

  it('stops at a failed send to keep the order, sets aside an event the receiver refuses for good, and sends each event once', async () => {
    const answers: number[] = [503, 422];
    const received: string[] = [];
    const receiver = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const status = answers.shift() ?? 200;
        if (status === 200) received.push(`${(JSON.parse(body) as RunEvent).eventType} ${request.headers['idempotency-key'] as string}`);
        response.writeHead(status).end(status === 422 ? 'eventTime: must be a date-time' : '');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const lineage = { endpoint: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/v1/lineage`, namespace: 'lastmile/dev', timeoutMs: 5000 };
    try {
      for (const [run, type] of [['a', 'START'], ['a', 'COMPLETE'], ['b', 'START']] as const) {
        await recordLineageEvent(pool, { env: 'dev', runId: run, event: eventOf(run, type) });
      }
      await recordLineageEvent(pool, { env: 'test', runId: 'c', event: eventOf('c', 'START') });
      const send = (event: Parameters<typeof sendLineageEvent>[1]) => sendLineageEvent(lineage, event);
      const first = await deliverPending(pool, 'dev', send);
      expect(first.delivered).toEqual([]);
      expect(first.failed?.error).toMatch(/answered HTTP 503/);
      const second = await deliverPending(pool, 'dev', send);
      expect(second.rejected.map((e) => e.runId)).toEqual(['a']);
      expect(second.rejected[0]!.lastError).toMatch(/HTTP 422.*must be a date-time/);
      expect(second.delivered.map((e) => `${e.runId} ${e.eventType}`)).toEqual(['a COMPLETE', 'b START']);
      expect((await deliverPending(pool, 'dev', send)).delivered).toEqual([]);
      expect(received).toEqual([`COMPLETE ${lineageRunId('a')}/COMPLETE`, `START ${lineageRunId('b')}/START`]);
      const rows = await listLineageEvents(pool, { env: 'dev' });
      expect(rows.map((e) => [e.eventType, e.attempts, e.deliveredAt !== null, e.rejectedAt !== null])).toEqual([
        ['START', 2, false, true],
        ['COMPLETE', 1, true, false],
        ['START', 1, true, false],
      ]);
      // another environment's events are its own delivery's
      expect((await listLineageEvents(pool, { env: 'test', pending: true })).length).toBe(1);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
