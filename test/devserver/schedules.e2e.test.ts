/**
 * Issue item 9: schedules through the SDK's `client.schedule` — create, describe, list, update, trigger, pause,
 * unpause, delete, matching times (cron with a time zone), overlap policies, recent and future action times, and the
 * search attributes and memo of the workflows a schedule starts.
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type ScheduleDescription } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, sleep, useDevServer } from '../support/devserver-harness.js';
import * as wf from './fixtures/workflows.js';

const h = useDevServer();
const KEYWORD = defineSearchAttributeKey('CustomKeywordField', SearchAttributeType.KEYWORD);
const SCHEDULED_BY = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

let worker: Awaited<ReturnType<typeof h.runningWorker>>;
let taskQueue: string;

beforeAll(async () => {
  worker = await h.runningWorker();
  taskQueue = worker.taskQueue;
});
afterAll(async () => {
  await worker?.stop();
});

async function runsOf(scheduleId: string): Promise<{ workflowId: string; runId: string; status: string }[]> {
  const out = [];
  for await (const info of h.client.workflow.list({ query: `TemporalScheduledById = '${scheduleId}' ORDER BY StartTime ASC` })) {
    out.push({ workflowId: info.workflowId, runId: info.runId, status: info.status.name });
  }
  return out;
}

describe('9. schedule lifecycle', () => {
  let described: ScheduleDescription;

  it('creates an interval schedule whose workflows carry its memo and search attributes', async () => {
    const handle = await h.client.schedule.create({
      scheduleId: 'every-second',
      spec: { intervals: [{ every: '1s' }] },
      action: {
        type: 'startWorkflow',
        workflowType: wf.greet,
        args: ['scheduled'],
        taskQueue,
        workflowId: 'every-second-wf',
        memo: { origin: 'schedule' },
        typedSearchAttributes: [{ key: KEYWORD, value: 'from-schedule' }],
      },
      memo: { scheduleMemo: 'yes' },
      state: { note: 'created by e2e' },
      policies: { catchupWindow: '1 minute', overlap: ScheduleOverlapPolicy.SKIP },
    });
    expect(handle.scheduleId).toBe('every-second');
    const runs = await eventually(async () => {
      const found = await runsOf('every-second');
      return found.filter((r) => r.status === 'COMPLETED').length >= 2 ? found : undefined;
    }, 10_000, 'two scheduled runs');
    const first = h.client.workflow.getHandle(runs[0].workflowId, runs[0].runId);
    expect(runs[0].workflowId).toMatch(/^every-second-wf-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(await first.result()).toBe('hello scheduled');
    const startedDescription = await first.describe();
    expect(startedDescription.memo).toEqual({ origin: 'schedule' });
    expect(startedDescription.typedSearchAttributes.get(KEYWORD)).toBe('from-schedule');
    expect(startedDescription.typedSearchAttributes.get(SCHEDULED_BY)).toBe('every-second');

    described = await handle.describe();
    expect(described.memo).toEqual({ scheduleMemo: 'yes' });
    expect(described.state.note).toBe('created by e2e');
    expect(described.state.paused).toBe(false);
    expect(described.info.numActionsTaken).toBeGreaterThanOrEqual(2);
    expect(described.info.recentActions.length).toBeGreaterThanOrEqual(2);
    expect(described.info.recentActions[0].action.workflow.workflowId).toBe(runs[0].workflowId);
    expect(described.info.nextActionTimes.length).toBeGreaterThan(0);
    expect(described.info.nextActionTimes[0].getTime()).toBeGreaterThan(Date.now() - 1000);
    expect(described.spec.intervals?.[0]?.every).toBe(1000);
    expect(described.policies).toMatchObject({ catchupWindow: 60_000, overlap: ScheduleOverlapPolicy.SKIP });
  });

  it('lists schedules', async () => {
    const listed = [];
    for await (const s of h.client.schedule.list()) listed.push(s);
    const mine = listed.find((s) => s.scheduleId === 'every-second');
    expect(mine).toBeDefined();
    expect(mine?.memo).toEqual({ scheduleMemo: 'yes' });
    expect(mine?.action?.type).toBe('startWorkflow');
  });

  it('pauses and unpauses', async () => {
    const handle = h.client.schedule.getHandle('every-second');
    await handle.pause('paused by e2e');
    let d = await handle.describe();
    expect(d.state.paused).toBe(true);
    expect(d.state.note).toBe('paused by e2e');
    const taken = d.info.numActionsTaken;
    await sleep(1500);
    d = await handle.describe();
    expect(d.info.numActionsTaken).toBe(taken);
    await handle.unpause('unpaused by e2e');
    d = await handle.describe();
    expect(d.state.paused).toBe(false);
    expect(d.state.note).toBe('unpaused by e2e');
    await eventually(async () => (await handle.describe()).info.numActionsTaken > taken, 5000, 'an action after unpause');
  });

  it('updates the spec and action, then triggers it now', async () => {
    const handle = h.client.schedule.getHandle('every-second');
    await handle.update((previous) => ({
      ...previous,
      spec: { intervals: [{ every: '1h' }] },
      action: { ...previous.action, args: ['updated'] } as typeof previous.action,
    }));
    const d = await handle.describe();
    expect(d.spec.intervals?.[0]?.every).toBe(3600_000);
    expect(d.info.lastUpdatedAt).toBeInstanceOf(Date);
    const before = (await runsOf('every-second')).length;
    await sleep(1100); // a trigger in a new second gets a workflow id of its own
    await handle.trigger();
    const runs = await eventually(async () => {
      const found = await runsOf('every-second');
      return found.length > before ? found : undefined;
    }, 5000, 'a triggered run');
    const last = runs.at(-1)!;
    expect(await h.client.workflow.getHandle(last.workflowId, last.runId).result()).toBe('hello updated');
  });

  it('deletes', async () => {
    const handle = h.client.schedule.getHandle('every-second');
    await handle.delete();
    await expect(handle.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    const listed = [];
    for await (const s of h.client.schedule.list()) listed.push(s.scheduleId);
    expect(listed).not.toContain('every-second');
  });
});

describe('9. cron specs, time zones and matching times', () => {
  it('ListScheduleMatchingTimes follows the time zone across a DST change', async () => {
    const handle = await h.client.schedule.create({
      scheduleId: 'noon-new-york',
      spec: { cronExpressions: ['0 12 * * *'], timezone: 'America/New_York' },
      action: { type: 'startWorkflow', workflowType: wf.greet, args: ['noon'], taskQueue },
      state: { paused: true },
    });
    const response = await h.workflowService.listScheduleMatchingTimes({
      namespace: 'default',
      scheduleId: 'noon-new-york',
      startTime: msToTs(Date.parse('2024-03-09T00:00:00Z')),
      endTime: msToTs(Date.parse('2024-03-12T00:00:00Z')),
    });
    const times = (response.startTime ?? []).map((t) => new Date(Number(t.seconds) * 1000).toISOString());
    // EST (UTC-5) before 2024-03-10, EDT (UTC-4) from then on.
    expect(times).toEqual(['2024-03-09T17:00:00.000Z', '2024-03-10T16:00:00.000Z', '2024-03-11T16:00:00.000Z']);
    const d = await handle.describe();
    expect(d.info.nextActionTimes.length).toBeGreaterThan(0);
    for (const t of d.info.nextActionTimes) {
      const local = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: 'numeric', hour12: false }).format(t);
      expect(local).toBe('12');
    }
    await handle.delete();
  });

  it('a calendar spec with a time zone and an invalid spec', async () => {
    const handle = await h.client.schedule.create({
      scheduleId: 'calendar-berlin',
      spec: { calendars: [{ hour: 9, minute: 30, dayOfWeek: 'MONDAY' }], timezone: 'Europe/Berlin' },
      action: { type: 'startWorkflow', workflowType: wf.greet, args: ['monday'], taskQueue },
      state: { paused: true },
    });
    const d = await handle.describe();
    for (const t of d.info.nextActionTimes.slice(0, 3)) {
      const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', weekday: 'long', hour: '2-digit', minute: '2-digit', hour12: false }).format(t);
      expect(parts).toBe('Monday 09:30');
    }
    await handle.delete();
    await expect(
      h.client.schedule.create({
        scheduleId: 'bad-cron',
        spec: { cronExpressions: ['not a cron'] },
        action: { type: 'startWorkflow', workflowType: wf.greet, args: ['x'], taskQueue },
      }),
    ).rejects.toThrow(/cron|invalid/i);
  });
});

describe('9. overlap policies', () => {
  it('SKIP, BUFFER_ONE and ALLOW_ALL with a workflow that outlives the interval', async () => {
    const create = (scheduleId: string, overlap: ScheduleOverlapPolicy) =>
      h.client.schedule.create({
        scheduleId,
        spec: { intervals: [{ every: '1s' }] },
        action: { type: 'startWorkflow', workflowType: wf.accumulator, taskQueue, workflowId: `${scheduleId}-wf` },
        policies: { overlap },
      });
    const skip = await create('overlap-skip', ScheduleOverlapPolicy.SKIP);
    const bufferOne = await create('overlap-buffer-one', ScheduleOverlapPolicy.BUFFER_ONE);
    const allowAll = await create('overlap-allow-all', ScheduleOverlapPolicy.ALLOW_ALL);
    await sleep(3300);
    await skip.pause('stop taking actions');
    await allowAll.pause('stop taking actions');

    const skipRuns = await runsOf('overlap-skip');
    expect(skipRuns.map((r) => r.status)).toEqual(['RUNNING']);
    expect((await skip.describe()).info.numActionsSkippedOverlap).toBeGreaterThanOrEqual(2);

    const allRuns = await runsOf('overlap-allow-all');
    expect(allRuns.length).toBeGreaterThanOrEqual(3);
    expect(allRuns.every((r) => r.status === 'RUNNING')).toBe(true);
    expect((await allowAll.describe()).info.runningActions.length).toBe(allRuns.length);

    // BUFFER_ONE: one running, one buffered (the rest skipped); when the running one ends, the buffered one -- a start
    // of an earlier second -- begins at once. (A paused schedule drops what it buffered, so it stays active here.)
    const buffered = await runsOf('overlap-buffer-one');
    expect(buffered.map((r) => r.status)).toEqual(['RUNNING']);
    expect((await bufferOne.describe()).info.numActionsSkippedOverlap).toBeGreaterThanOrEqual(1);
    const firstHandle = h.client.workflow.getHandle(buffered[0].workflowId, buffered[0].runId);
    await firstHandle.signal(wf.doneSignal);
    await firstHandle.result();
    const closedAt = (await firstHandle.describe()).closeTime!.getTime();
    const after = await eventually(async () => {
      const runs = await runsOf('overlap-buffer-one');
      return runs.length >= 2 ? runs : undefined;
    }, 5000, 'the buffered run');
    await bufferOne.pause('stop taking actions');
    expect(after.map((r) => r.status).slice(0, 2)).toEqual(['COMPLETED', 'RUNNING']);
    const second = await h.client.workflow.getHandle(after[1].workflowId, after[1].runId).describe();
    const nominal = second.typedSearchAttributes.get(defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME));
    expect(nominal!.getTime()).toBeLessThan(closedAt);
    expect(second.startTime.getTime() - closedAt).toBeLessThan(1500);

    for (const s of [skip, bufferOne, allowAll]) await s.delete();
    for (const id of ['overlap-skip', 'overlap-buffer-one', 'overlap-allow-all']) {
      for (const r of await runsOf(id)) {
        if (r.status === 'RUNNING') await h.client.workflow.getHandle(r.workflowId, r.runId).signal(wf.doneSignal);
      }
    }
  });

  it('trigger with an overlap policy of its own', async () => {
    const handle = await h.client.schedule.create({
      scheduleId: 'trigger-skip',
      spec: { intervals: [{ every: '1h' }] },
      action: { type: 'startWorkflow', workflowType: wf.accumulator, taskQueue, workflowId: 'trigger-skip-wf' },
      state: { paused: true },
    });
    await handle.trigger(ScheduleOverlapPolicy.SKIP);
    await eventually(async () => (await runsOf('trigger-skip')).length === 1, 5000, 'first trigger');
    await sleep(1100);
    await handle.trigger(ScheduleOverlapPolicy.SKIP);
    await sleep(500);
    const runs = await runsOf('trigger-skip');
    expect(runs).toHaveLength(1);
    await h.client.workflow.getHandle(runs[0].workflowId, runs[0].runId).signal(wf.doneSignal);
    await handle.delete();
  });
});

describe('replay', () => {
  it('every history of this file replays cleanly', async () => {
    await eventually(async () => (await h.client.workflow.count(`ExecutionStatus = 'Running'`)).count === 0, 10_000, 'nothing running');
    await worker.stop();
    await h.expectHistoriesReplay();
    h.expectNoInternalErrors();
  });
});
