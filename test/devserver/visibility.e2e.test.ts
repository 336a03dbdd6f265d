/**
 * Issue item 8: visibility — OperatorService search attributes, ListWorkflowExecutions / CountWorkflowExecutions
 * with Temporal's list-filter language over system and custom attributes of every type, and INVALID_ARGUMENT for
 * malformed queries.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, useDevServer } from '../support/devserver-harness.js';
import * as wf from './fixtures/workflows.js';

const h = useDevServer();
const IVT = temporal.api.enums.v1.IndexedValueType;

const K = {
  keyword: defineSearchAttributeKey('LmKeyword', SearchAttributeType.KEYWORD),
  text: defineSearchAttributeKey('LmText', SearchAttributeType.TEXT),
  int: defineSearchAttributeKey('LmInt', SearchAttributeType.INT),
  double: defineSearchAttributeKey('LmDouble', SearchAttributeType.DOUBLE),
  bool: defineSearchAttributeKey('LmBool', SearchAttributeType.BOOL),
  datetime: defineSearchAttributeKey('LmDatetime', SearchAttributeType.DATETIME),
  list: defineSearchAttributeKey('LmKeywordList', SearchAttributeType.KEYWORD_LIST),
};

let worker: Awaited<ReturnType<typeof h.runningWorker>>;
let otherQueue: string;
const marks: Record<string, Date> = {};

async function ids(query: string): Promise<string[]> {
  const out: string[] = [];
  for await (const info of h.client.workflow.list({ query })) out.push(info.workflowId);
  return out;
}

async function sorted(query: string): Promise<string[]> {
  return (await ids(query)).sort();
}

async function listError(query: string): Promise<{ code?: number; message: string }> {
  try {
    await ids(query);
  } catch (error) {
    const e = error as Error & { code?: number; cause?: Error & { code?: number } };
    return { code: e.code ?? e.cause?.code, message: `${e.message} ${e.cause?.message ?? ''}` };
  }
  throw new Error(`query ${query} did not fail`);
}

beforeAll(async () => {
  await h.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: {
      LmKeyword: IVT.INDEXED_VALUE_TYPE_KEYWORD,
      LmText: IVT.INDEXED_VALUE_TYPE_TEXT,
      LmInt: IVT.INDEXED_VALUE_TYPE_INT,
      LmDouble: IVT.INDEXED_VALUE_TYPE_DOUBLE,
      LmBool: IVT.INDEXED_VALUE_TYPE_BOOL,
      LmDatetime: IVT.INDEXED_VALUE_TYPE_DATETIME,
      LmKeywordList: IVT.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    },
  });
  worker = await h.runningWorker();
  const taskQueue = worker.taskQueue;
  otherQueue = h.taskQueue('other');

  await h.client.workflow.execute(wf.greet, {
    taskQueue,
    workflowId: 'vis-1',
    args: ['one'],
    typedSearchAttributes: [
      { key: K.keyword, value: 'alpha' },
      { key: K.text, value: 'the quick brown fox' },
      { key: K.int, value: 1 },
      { key: K.double, value: 1.5 },
      { key: K.bool, value: true },
      { key: K.datetime, value: new Date('2024-01-01T00:00:00Z') },
      { key: K.list, value: ['red', 'green'] },
    ],
  });
  marks.afterFirst = new Date();
  await new Promise((r) => setTimeout(r, 20));
  await h.client.workflow.start(wf.accumulator, {
    taskQueue,
    workflowId: 'vis-2',
    typedSearchAttributes: [
      { key: K.keyword, value: 'beta' },
      { key: K.text, value: 'a lazy dog' },
      { key: K.int, value: 2 },
      { key: K.double, value: 2.5 },
      { key: K.bool, value: false },
      { key: K.datetime, value: new Date('2024-06-01T00:00:00Z') },
      { key: K.list, value: ['blue'] },
    ],
  });
  await new Promise((r) => setTimeout(r, 20));
  marks.beforeThird = new Date();
  await h.client.workflow
    .execute(wf.failing, {
      taskQueue,
      workflowId: 'vis-3',
      args: ['vis-3 fails'],
      typedSearchAttributes: [
        { key: K.keyword, value: 'alphabet' },
        { key: K.int, value: 3 },
        { key: K.double, value: 3.5 },
        { key: K.bool, value: true },
        { key: K.datetime, value: new Date('2025-01-01T00:00:00Z') },
        { key: K.list, value: ['red'] },
      ],
    })
    .catch(() => undefined);
  marks.afterThird = new Date();
  await h.client.workflow.start(wf.accumulator, { taskQueue: otherQueue, workflowId: 'vis-4', typedSearchAttributes: [{ key: K.int, value: 4 }] });
  await h.client.workflow.execute(wf.searchable, { taskQueue, workflowId: 'vis-upsert', args: ['upsert-me'] });
});

afterAll(async () => {
  await worker?.stop();
});

describe('8. search attributes through OperatorService', () => {
  it('ListSearchAttributes shows custom and system attributes', async () => {
    const listed = await h.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(listed.customAttributes).toMatchObject({
      LmKeyword: IVT.INDEXED_VALUE_TYPE_KEYWORD,
      LmText: IVT.INDEXED_VALUE_TYPE_TEXT,
      LmInt: IVT.INDEXED_VALUE_TYPE_INT,
      LmDouble: IVT.INDEXED_VALUE_TYPE_DOUBLE,
      LmBool: IVT.INDEXED_VALUE_TYPE_BOOL,
      LmDatetime: IVT.INDEXED_VALUE_TYPE_DATETIME,
      LmKeywordList: IVT.INDEXED_VALUE_TYPE_KEYWORD_LIST,
      CustomKeywordField: IVT.INDEXED_VALUE_TYPE_KEYWORD,
    });
    expect(listed.systemAttributes).toMatchObject({ WorkflowId: IVT.INDEXED_VALUE_TYPE_KEYWORD, StartTime: IVT.INDEXED_VALUE_TYPE_DATETIME });
  });

  it('adding an attribute again with another type is refused; a system name is refused', async () => {
    const clash = await h.connection.operatorService
      .addSearchAttributes({ namespace: 'default', searchAttributes: { LmInt: IVT.INDEXED_VALUE_TYPE_KEYWORD } })
      .catch((e: unknown) => e);
    expect((clash as { code?: number }).code).toBe(GrpcStatus.ALREADY_EXISTS);
    const system = await h.connection.operatorService
      .addSearchAttributes({ namespace: 'default', searchAttributes: { WorkflowId: IVT.INDEXED_VALUE_TYPE_KEYWORD } })
      .catch((e: unknown) => e);
    expect((system as { code?: number }).code).toBe(GrpcStatus.INVALID_ARGUMENT);
  });
});

describe('8. list filter over system attributes', () => {
  it('WorkflowId, WorkflowType, TaskQueue', async () => {
    expect(await ids(`WorkflowId = 'vis-1'`)).toEqual(['vis-1']);
    expect(await sorted(`WorkflowType = 'accumulator'`)).toEqual(['vis-2', 'vis-4']);
    expect(await ids(`TaskQueue = '${otherQueue}'`)).toEqual(['vis-4']);
    expect(await sorted(`WorkflowId STARTS_WITH 'vis-' AND WorkflowType != 'accumulator'`)).toEqual(['vis-1', 'vis-3', 'vis-upsert']);
  });

  it('ExecutionStatus with =, != and IN', async () => {
    expect(await sorted(`ExecutionStatus = 'Running'`)).toEqual(['vis-2', 'vis-4']);
    expect(await sorted(`ExecutionStatus != 'Running'`)).toEqual(['vis-1', 'vis-3', 'vis-upsert']);
    expect(await sorted(`ExecutionStatus IN ('Failed', 'Completed') AND WorkflowId != 'vis-upsert'`)).toEqual(['vis-1', 'vis-3']);
  });

  it('StartTime and CloseTime with <, >, BETWEEN', async () => {
    expect(await sorted(`StartTime > '${marks.beforeThird.toISOString()}'`)).toEqual(['vis-3', 'vis-4', 'vis-upsert']);
    expect(await ids(`StartTime < '${marks.afterFirst.toISOString()}'`)).toEqual(['vis-1']);
    expect(await ids(`CloseTime BETWEEN '${marks.beforeThird.toISOString()}' AND '${marks.afterThird.toISOString()}'`)).toEqual(['vis-3']);
  });

  it('ORDER BY a system attribute', async () => {
    expect(await ids(`WorkflowId STARTS_WITH 'vis-' ORDER BY StartTime ASC`)).toEqual(['vis-1', 'vis-2', 'vis-3', 'vis-4', 'vis-upsert']);
    expect(await ids(`WorkflowId STARTS_WITH 'vis-' ORDER BY WorkflowId DESC`)).toEqual(['vis-upsert', 'vis-4', 'vis-3', 'vis-2', 'vis-1']);
  });
});

describe('8. list filter over custom attributes', () => {
  it('Keyword: =, !=, IN, STARTS_WITH', async () => {
    expect(await ids(`LmKeyword = 'alpha'`)).toEqual(['vis-1']);
    expect(await sorted(`LmKeyword != 'alpha'`)).toEqual(['vis-2', 'vis-3']);
    expect(await ids(`LmKeyword IN ('beta', 'gamma')`)).toEqual(['vis-2']);
    expect(await sorted(`LmKeyword STARTS_WITH 'alpha'`)).toEqual(['vis-1', 'vis-3']);
  });

  it('Text matches words', async () => {
    expect(await ids(`LmText = 'fox'`)).toEqual(['vis-1']);
    expect(await ids(`LmText = 'LAZY'`)).toEqual(['vis-2']);
  });

  it('Int and Double: comparisons and BETWEEN', async () => {
    expect(await sorted(`LmInt >= 2 AND LmInt < 4`)).toEqual(['vis-2', 'vis-3']);
    expect(await sorted(`LmInt BETWEEN 2 AND 3`)).toEqual(['vis-2', 'vis-3']);
    expect(await sorted(`LmDouble > 2.0`)).toEqual(['vis-2', 'vis-3']);
    expect(await ids(`LmDouble < 2`)).toEqual(['vis-1']);
  });

  it('Bool, Datetime, KeywordList', async () => {
    expect(await sorted(`LmBool = true`)).toEqual(['vis-1', 'vis-3']);
    expect(await ids(`LmBool = false`)).toEqual(['vis-2']);
    expect(await sorted(`LmDatetime > '2024-03-01T00:00:00Z'`)).toEqual(['vis-2', 'vis-3']);
    expect(await sorted(`LmKeywordList = 'red'`)).toEqual(['vis-1', 'vis-3']);
    expect(await ids(`LmKeywordList IN ('blue')`)).toEqual(['vis-2']);
  });

  it('AND, OR and parentheses', async () => {
    expect(await ids(`(LmKeyword = 'alpha' OR LmKeyword = 'beta') AND LmBool = false`)).toEqual(['vis-2']);
    expect(await sorted(`LmKeyword = 'alpha' OR (LmInt = 4 AND ExecutionStatus = 'Running')`)).toEqual(['vis-1', 'vis-4']);
  });

  it('ORDER BY a custom attribute, ascending and descending', async () => {
    expect(await ids(`LmInt > 0 ORDER BY LmInt DESC`)).toEqual(['vis-4', 'vis-3', 'vis-2', 'vis-1']);
    expect(await ids(`LmInt > 0 ORDER BY LmInt ASC`)).toEqual(['vis-1', 'vis-2', 'vis-3', 'vis-4']);
  });

  it('attributes upserted by the workflow are searchable', async () => {
    expect(await ids(`CustomKeywordField = 'upsert-me'`)).toEqual(['vis-upsert']);
    expect(await ids(`CustomIntField = 42`)).toEqual(['vis-upsert']);
  });

  it('paging through results', async () => {
    const page1 = await h.workflowService.listWorkflowExecutions({ namespace: 'default', query: `LmInt > 0 ORDER BY LmInt ASC`, pageSize: 3 });
    expect(page1.executions?.map((e) => e.execution?.workflowId)).toEqual(['vis-1', 'vis-2', 'vis-3']);
    const page2 = await h.workflowService.listWorkflowExecutions({
      namespace: 'default',
      query: `LmInt > 0 ORDER BY LmInt ASC`,
      pageSize: 3,
      nextPageToken: page1.nextPageToken,
    });
    expect(page2.executions?.map((e) => e.execution?.workflowId)).toEqual(['vis-4']);
    expect(page2.nextPageToken?.length ?? 0).toBe(0);
  });
});

describe('8. CountWorkflowExecutions', () => {
  it('counts, with and without GROUP BY ExecutionStatus', async () => {
    expect((await h.client.workflow.count(`LmBool = true`)).count).toBe(2);
    expect((await h.client.workflow.count(`WorkflowId STARTS_WITH 'vis-'`)).count).toBe(5);
    const grouped = await h.client.workflow.count(`WorkflowId STARTS_WITH 'vis-' GROUP BY ExecutionStatus`);
    const groups = Object.fromEntries(grouped.groups.map((g) => [String(g.groupValues[0]), g.count]));
    expect(groups).toEqual({ Running: 2, Completed: 2, Failed: 1 });
  });
});

describe('8. malformed queries', () => {
  it('are INVALID_ARGUMENT naming the problem', async () => {
    const incomplete = await listError(`LmKeyword = `);
    expect(incomplete.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(incomplete.message).toMatch(/invalid query/);
    const unknown = await listError(`NoSuchAttribute = 'x'`);
    expect(unknown.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(unknown.message).toMatch(/NoSuchAttribute/);
    const wrongType = await listError(`LmInt = 'many'`);
    expect(wrongType.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(wrongType.message).toMatch(/LmInt/);
    const badOperator = await listError(`LmBool > true`);
    expect(badOperator.message).toMatch(/operator > is not supported/);
    const unbalanced = await listError(`(LmInt = 1`);
    expect(unbalanced.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    const count = await h.client.workflow.count(`LmInt = `).catch((e: unknown) => e);
    expect((count as { code?: number }).code ?? ((count as Error).cause as { code?: number })?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
  });
});

describe('8. RemoveSearchAttributes', () => {
  it('removes an attribute: it is no longer listed nor queryable; removing an unknown one is NOT_FOUND', async () => {
    await h.connection.operatorService.removeSearchAttributes({ namespace: 'default', searchAttributes: ['LmDouble'] });
    const listed = await h.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(listed.customAttributes ?? {})).not.toContain('LmDouble');
    const error = await listError(`LmDouble > 1`);
    expect(error.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(error.message).toMatch(/LmDouble/);
    const missing = await h.connection.operatorService
      .removeSearchAttributes({ namespace: 'default', searchAttributes: ['NeverAdded'] })
      .catch((e: unknown) => e);
    expect((missing as { code?: number }).code).toBe(GrpcStatus.NOT_FOUND);
  });
});

describe('replay', () => {
  it('every history of this file replays cleanly', async () => {
    for (const id of ['vis-2', 'vis-4']) await h.client.workflow.getHandle(id).terminate('end of visibility tests');
    await eventually(async () => (await h.client.workflow.count(`ExecutionStatus = 'Running'`)).count === 0, 5000, 'nothing running');
    await worker.stop();
    await h.expectHistoriesReplay();
    h.expectNoInternalErrors();
  });
});
