import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AlertDeliveryError,
  alertChannels,
  createAlertStore,
  deliver,
  resolveChannels,
  type AlertStore,
  type AlertsSpec,
  type IncidentInput,
} from '../../src/alerts/index.js';
import { migrate } from '../../src/meta/migrate.js';
import { secret } from '../../src/product/secret.js';
import { startTestPostgres, type TestPostgres } from '../warehouse/support.js';

/** A local webhook receiver: answers `status` (200 unless told otherwise), or never when `hang` is set. */
interface Receiver {
  port: number;
  status: number;
  hang: boolean;
  requests: { path: string; headers: http.IncomingHttpHeaders; body: unknown; answered: number }[];
  /** Requests answered with a 2xx status. */
  accepted(): number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const sockets = new Set<import('node:net').Socket>();
  const receiver: Receiver = {
    port: 0,
    status: 200,
    hang: false,
    requests: [],
    accepted: () => receiver.requests.filter((request) => request.answered < 300).length,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (receiver.hang) return;
      const answered = receiver.status;
      receiver.requests.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), answered });
      res.statusCode = answered;
      // A receiver that quotes the request path in its error page, as some proxies do: the token must not leak from here.
      res.end(answered < 300 ? 'ok' : `upstream unavailable for ${req.url ?? ''}`);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  return receiver;
}

const TOKEN = 'T0ABCDEF/B0GHIJKL/xoxSuperSecretToken42';
const HOOK_ENV = 'LASTMILE_TEST_ALERT_WEBHOOK_URL';

let server: TestPostgres;
let pool: pg.Pool;
let store: AlertStore;
let receiver: Receiver;

beforeAll(async () => {
  server = await startTestPostgres();
  pool = server.pool(await server.freshDatabase('alert_deliver'), 8);
  await migrate(pool);
  store = createAlertStore(pool);
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await server?.stop();
});
afterEach(() => {
  receiver.status = 200;
  receiver.hang = false;
  receiver.requests.length = 0;
  delete process.env[HOOK_ENV];
});

const hookUrl = () => `http://127.0.0.1:${receiver.port}/services/${TOKEN}`;
const webhookConfig = (spec: Partial<NonNullable<AlertsSpec['webhook']>> = {}): AlertsSpec => ({ webhook: { url: secret(HOOK_ENV), ...spec } });
const silent = { log: () => undefined };

let serial = 0;
async function openIncident(channels: string[], overrides: Partial<IncidentInput> = {}) {
  serial += 1;
  const { alert } = await store.open(
    {
      env: 'dev',
      product: 'ad_bids',
      kind: 'breach',
      slo: 'freshness',
      severity: 'page',
      key: `dev/ad_bids/breach/freshness/${serial}`,
      message: 'data is 7h old (objective ≤ 6h)',
      detail: { ageHours: 7 },
      ...overrides,
    },
    channels,
  );
  return alert;
}

function expectNoSecret(text: string | null | undefined): void {
  expect(text).toBeTruthy();
  expect(text).not.toContain(hookUrl());
  expect(text).not.toContain('xoxSuperSecretToken42');
  expect(text).not.toContain('/services/');
}

describe('alertChannels', () => {
  it('is the log by default, plus the webhook when configured', () => {
    expect(alertChannels(undefined)).toEqual(['log']);
    expect(alertChannels({ log: false })).toEqual([]);
    expect(alertChannels(webhookConfig())).toEqual(['log', 'webhook']);
    expect(resolveChannels(webhookConfig())).toEqual({ log: true, webhook: { url: secret(HOOK_ENV), format: 'json', timeoutMs: 10_000 } });
  });
});

describe('the log channel', () => {
  it('writes one line on open and one on resolve', async () => {
    const lines: string[] = [];
    const alert = await openIncident(['log']);
    expect(await deliver(store, { alertId: alert.alertId, event: 'open', channel: 'log' }, resolveChannels(undefined), { log: (line) => lines.push(line) })).toBe('delivered');
    expect(await deliver(store, { alertId: alert.alertId, event: 'open', channel: 'log' }, resolveChannels(undefined), { log: (line) => lines.push(line) })).toBe('already');
    await store.resolve(alert.key, 'data is 1h old again', ['log']);
    await deliver(store, { alertId: alert.alertId, event: 'resolve', channel: 'log' }, resolveChannels(undefined), { log: (line) => lines.push(line) });
    expect(lines).toEqual([
      `ALERT [page] dev/ad_bids freshness breach: data is 7h old (objective ≤ 6h) — alert ${alert.alertId}`,
      `RESOLVED [page] dev/ad_bids freshness breach: data is 1h old again — alert ${alert.alertId}`,
    ]);
    expect(await store.pending({ product: 'ad_bids' })).toEqual([]);
  });
});

describe('the webhook channel', () => {
  it('POSTs the JSON event once with an Idempotency-Key; delivering again returns already', async () => {
    process.env[HOOK_ENV] = hookUrl();
    const alert = await openIncident(['log', 'webhook']);
    const ref = { alertId: alert.alertId, event: 'open' as const, channel: 'webhook' };
    expect(await deliver(store, ref, resolveChannels(webhookConfig()), silent)).toBe('delivered');
    expect(await deliver(store, ref, resolveChannels(webhookConfig()), silent)).toBe('already');

    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request?.path).toBe(`/services/${TOKEN}`);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['idempotency-key']).toBe(`lastmile-${alert.alertId}-open`);
    expect(request?.body).toEqual({
      id: `lastmile-${alert.alertId}-open`,
      alertId: alert.alertId,
      event: 'open',
      status: 'firing',
      env: 'dev',
      product: 'ad_bids',
      kind: 'breach',
      slo: 'freshness',
      severity: 'page',
      key: alert.key,
      message: 'data is 7h old (objective ≤ 6h)',
      detail: { ageHours: 7 },
      raisedAt: alert.raisedAt.toISOString(),
      resolvedAt: null,
    });
    const webhook = (await store.listDeliveries(alert.alertId)).find((d) => d.channel === 'webhook');
    expect(webhook).toMatchObject({ attempts: 1, lastError: null });
    expect(webhook?.deliveredAt).toBeInstanceOf(Date);
  });

  it('two attempts at once send one POST', async () => {
    process.env[HOOK_ENV] = hookUrl();
    const alert = await openIncident(['webhook']);
    const ref = { alertId: alert.alertId, event: 'open' as const, channel: 'webhook' };
    const outcomes = await Promise.all([1, 2, 3].map(() => deliver(store, ref, resolveChannels(webhookConfig()), silent)));
    expect(outcomes.sort()).toEqual(['already', 'already', 'delivered']);
    expect(receiver.requests).toHaveLength(1);
  });

  it('a receiver outage throws and is recorded without the URL; once it is back, one delivery succeeds', async () => {
    process.env[HOOK_ENV] = hookUrl();
    const alert = await openIncident(['webhook']);
    const ref = { alertId: alert.alertId, event: 'open' as const, channel: 'webhook' };
    receiver.status = 503;
    const error = await deliver(store, ref, resolveChannels(webhookConfig()), silent).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AlertDeliveryError);
    expect((error as AlertDeliveryError).retryable).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`the alert webhook \\(${HOOK_ENV}\\) answered HTTP 503`));
    expectNoSecret((error as Error).message);
    const [failed] = await store.listDeliveries(alert.alertId);
    expect(failed).toMatchObject({ attempts: 1, deliveredAt: null });
    expect(failed?.lastError).toMatch(/HTTP 503/);
    expectNoSecret(failed?.lastError);
    expect(await store.pending({ product: 'ad_bids' })).toContainEqual({ ...ref, attempts: 1 });

    receiver.status = 200;
    expect(await deliver(store, ref, resolveChannels(webhookConfig()), silent)).toBe('delivered');
    expect(await deliver(store, ref, resolveChannels(webhookConfig()), silent)).toBe('already');
    expect(receiver.accepted()).toBe(1);
    expect(new Set(receiver.requests.map((request) => request.headers['idempotency-key']))).toEqual(new Set([`lastmile-${alert.alertId}-open`]));
    expect(await store.listDeliveries(alert.alertId)).toMatchObject([{ attempts: 2, lastError: null }]);
  });

  it('a closed port or a silent receiver throws an error naming the cause, not the URL', async () => {
    const closed = await startReceiver();
    await closed.close();
    process.env[HOOK_ENV] = `http://127.0.0.1:${closed.port}/services/${TOKEN}`;
    const alert = await openIncident(['webhook']);
    const ref = { alertId: alert.alertId, event: 'open' as const, channel: 'webhook' };
    const refused = await deliver(store, ref, resolveChannels(webhookConfig()), silent).catch((caught: Error) => caught.message);
    expect(refused).toMatch(/could not be reached: network error ECONNREFUSED/);
    expect(refused).not.toContain(TOKEN);

    process.env[HOOK_ENV] = hookUrl();
    receiver.hang = true;
    const slow = await deliver(store, ref, resolveChannels(webhookConfig({ timeout: '300ms' })), silent).catch((caught: Error) => caught.message);
    expect(slow).toMatch(/could not be reached: no answer within 0.3s/);
    expectNoSecret(slow);
    expect((await store.listDeliveries(alert.alertId))[0]).toMatchObject({ attempts: 2, deliveredAt: null });
  });

  it('an unset URL variable is an error naming it, recorded as an attempt', async () => {
    const alert = await openIncident(['webhook']);
    const ref = { alertId: alert.alertId, event: 'open' as const, channel: 'webhook' };
    await expect(deliver(store, ref, resolveChannels(webhookConfig()), silent)).rejects.toThrow(
      new RegExp(`The environment variable ${HOOK_ENV} is not set \\(needed by the alert webhook of environment dev\\)`),
    );
    expect((await store.listDeliveries(alert.alertId))[0]?.lastError).toMatch(new RegExp(`${HOOK_ENV} is not set`));
    expect(receiver.requests).toHaveLength(0);
  });

  it('the slack format sends a Slack message with text', async () => {
    process.env[HOOK_ENV] = hookUrl();
    const alert = await openIncident(['webhook'], { message: 'bids <above> cap & rising' });
    const channels = resolveChannels(webhookConfig({ format: 'slack' }));
    await deliver(store, { alertId: alert.alertId, event: 'open', channel: 'webhook' }, channels, silent);
    await store.resolve(alert.key, 'bids back under the cap', ['webhook']);
    await deliver(store, { alertId: alert.alertId, event: 'resolve', channel: 'webhook' }, channels, silent);
    expect(receiver.requests.map((request) => request.body)).toEqual([
      { text: `:rotating_light: [page] dev/ad_bids freshness breach: bids &lt;above&gt; cap &amp; rising (alert ${alert.alertId})` },
      { text: `:white_check_mark: RESOLVED [page] dev/ad_bids freshness breach: bids back under the cap (alert ${alert.alertId})` },
    ]);
  });

  it('a resolve waits until the open message reached the channel, then says resolved', async () => {
    process.env[HOOK_ENV] = hookUrl();
    const alert = await openIncident(['webhook']);
    const resolved = await store.resolve(alert.key, 'fresh again', ['webhook']);
    const channels = resolveChannels(webhookConfig());
    await expect(deliver(store, { alertId: alert.alertId, event: 'resolve', channel: 'webhook' }, channels, silent)).rejects.toThrow(/waits until the open message is delivered/);
    expect(receiver.requests).toHaveLength(0);

    await deliver(store, { alertId: alert.alertId, event: 'open', channel: 'webhook' }, channels, silent);
    expect(await deliver(store, { alertId: alert.alertId, event: 'resolve', channel: 'webhook' }, channels, silent)).toBe('delivered');
    expect(receiver.requests.map((request) => request.headers['idempotency-key'])).toEqual([`lastmile-${alert.alertId}-open`, `lastmile-${alert.alertId}-resolve`]);
    expect(receiver.requests[1]?.body).toMatchObject({ event: 'resolve', status: 'resolved', message: 'fresh again', resolvedAt: resolved?.resolvedAt?.toISOString() });
  });

  it('a channel the environment no longer has fails for good', async () => {
    const alert = await openIncident(['webhook']);
    const error = await deliver(store, { alertId: alert.alertId, event: 'open', channel: 'webhook' }, resolveChannels(undefined), silent).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AlertDeliveryError);
    expect(error).toMatchObject({ name: 'LastmileInputError', retryable: false });
    expect((error as Error).message).toMatch(/channel 'webhook', which environment dev no longer has/);
  });
});
