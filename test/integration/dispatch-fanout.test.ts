/**
 * Dispatch fan-out on the local stack: Plan cuts each batch into dispatch groups (items of the
 * runs table), the run state machine's Map invokes the real Dispatch once per group, and every
 * host gets its request exactly once. The execution history the local Step Functions records (in
 * AWS's shape) is the count functions/run/history-budget.ts plans with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { newRunId } from '#shared/ids.ts';
import { META_SK, batchSk, groupSk, type BatchItem, type GroupItem } from '#shared/runs-table.ts';
import { GROUP_SIZE_ENV } from '#functions/run/dispatch-groups.ts';
import { runHistoryEvents } from '#functions/run/history-budget.ts';
import { RunStore } from '#shared/stores/runs-store.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { FakeAgent } from '../helpers/fake-agent.ts';

let t: TestStack;
const agents: FakeAgent[] = [];
const HOSTS = ['fan-1', 'fan-2', 'fan-3', 'fan-4', 'fan-5'];

beforeAll(async () => {
  // Two hosts a group, so five hosts make three groups (Plan reads it on every invocation).
  process.env[GROUP_SIZE_ENV] = '2';
  t = await startTestStack();
  for (const nodeId of HOSTS) {
    const agent = new FakeAgent(
      t.sqs,
      t.stack.file.repliesQueueUrl,
      nodeId,
      { role: 'fan' },
      'ack-and-result',
    );
    agents.push(agent);
    await agent.start(t.stack.file.stage);
  }
  await eventually(async () => {
    const found = await Promise.all(
      HOSTS.map(
        async (nodeId) =>
          (await t.db.send(new GetCommand({ TableName: t.stack.file.nodesTable, Key: { nodeId } }))).Item,
      ),
    );
    return found.every(Boolean) ? true : undefined;
  });
}, 60_000);

afterAll(async () => {
  delete process.env[GROUP_SIZE_ENV];
  await Promise.all(agents.map((a) => a.stop()));
  await t?.stop();
});

async function history(executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await t.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

async function run(options: Record<string, unknown>) {
  const runId = newRunId();
  const { executionArn } = await t.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: t.stack.file.stateMachines.run,
      name: runId,
      input: JSON.stringify({
        runId,
        caller: 'test',
        command: { shell: 'true' },
        filter: { fact: ['role=fan'] },
        options: { discoveryTimeoutSec: 20, timeoutSec: 20, ...options },
      }),
    }),
  );
  const execution = await eventually(async () => {
    const d = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));
    return d.status === 'RUNNING' ? undefined : d;
  }, 60_000);
  const get = async <T>(sk: string) =>
    (await t.db.send(new GetCommand({ TableName: t.stack.file.runsTable, Key: { runId, sk } }))).Item as T;
  return {
    runId,
    execution,
    output: JSON.parse(execution.output ?? 'null'),
    get,
    events: await history(executionArn!),
  };
}

const received = (runId: string) => agents.flatMap((a) => a.received.filter((r) => r.runId === runId));

describe('dispatch fan-out', () => {
  it('sends every host its request once, through one Dispatch per group, and counts the history as planned', async () => {
    const { runId, execution, output, get, events } = await run({});

    expect(execution.status).toBe('SUCCEEDED');
    expect(output.summary).toMatchObject({ expected: 5, succeeded: 5 });
    // Each host got one request, and its group's signed document names only that group's hosts.
    const requests = received(runId);
    expect(requests).toHaveLength(5);
    expect(new Set(requests.map((r) => r.targetTree?.root)).size).toBe(3);
    expect(requests.map((r) => r.targetTree?.size).sort()).toEqual([1, 2, 2, 2, 2]);
    const groups = await Promise.all([0, 1, 2].map((g) => get<GroupItem>(groupSk(0, g))));
    expect(groups.map((g) => g.nodeIds.length)).toEqual([2, 2, 1]);
    expect(groups.flatMap((g) => g.nodeIds).sort()).toEqual([...HOSTS].sort());
    expect((await get<BatchItem>(batchSk(0))).groupCount).toBe(3);
    expect(events.filter((e) => e.type === 'MapIterationStarted')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'MapIterationSucceeded')).toHaveLength(3);
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['MapStateEntered', 'MapStateStarted', 'MapStateSucceeded', 'MapStateExited']),
    );
    expect(events).toHaveLength(runHistoryEvents([3], false, 'succeeded'));
  });

  it('fans out each batch over its own groups, and the history is what Plan budgets for', async () => {
    const { runId, execution, output, get, events } = await run({ batchSize: 3 });

    expect(execution.status).toBe('SUCCEEDED');
    expect(output.summary).toMatchObject({ expected: 5, succeeded: 5 });
    expect(received(runId)).toHaveLength(5);
    expect((await get<BatchItem>(batchSk(0))).groupCount).toBe(2);
    expect((await get<BatchItem>(batchSk(1))).groupCount).toBe(1);
    expect(await get(groupSk(1, 1))).toBeUndefined();
    expect(events.filter((e) => e.type === 'MapIterationStarted')).toHaveLength(3);
    expect(events).toHaveLength(runHistoryEvents([2, 1], false, 'succeeded'));
  });
});

describe('RunStore.markBatchDispatched with several groups', () => {
  it('keeps the latest group’s time: an earlier or repeated group does not shorten the window', async () => {
    const store = new RunStore(t.db, t.stack.file.runsTable);
    const runId = newRunId();
    await store.putMany([{ runId, sk: batchSk(0), batch: 0, expected: 4, expiresAt: 0 }]);

    await store.markBatchDispatched(runId, 0, 2_000);
    await store.markBatchDispatched(runId, 0, 1_000);
    await store.markBatchDispatched(runId, 0, 2_000);

    expect((await store.getBatch(runId, 0))?.dispatchedAt).toBe(2_000);
    await store.markBatchDispatched(runId, 0, 3_000);
    expect((await store.getBatch(runId, 0))?.dispatchedAt).toBe(3_000);
    await expect(store.markBatchDispatched(runId, 1, 1_000)).rejects.toThrow(`run ${runId} has no batch 1`);
  });

  it('keeps the first dispatch time of the run when another group records one later', async () => {
    const store = new RunStore(t.db, t.stack.file.runsTable);
    const runId = newRunId();
    await store.putMany([{ runId, sk: META_SK, status: 'running', expiresAt: 0 }]);

    await store.markFirstDispatch(runId, 5_000);
    await store.markFirstDispatch(runId, 6_000);

    expect((await store.getMeta(runId))?.firstDispatchAt).toBe(5_000);
  });

  it('refuses to dispatch a group Plan never wrote, naming it', async () => {
    const store = new RunStore(t.db, t.stack.file.runsTable);
    await expect(store.groupNodes('no-such-run', 0, 7)).rejects.toThrow(
      'run no-such-run has no dispatch group 7 in batch 0',
    );
  });
});
