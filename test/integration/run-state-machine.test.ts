/**
 * The run state machine on the local stack: the ASL file, the real handlers, ingest fed by the
 * replies queue, with scripted agents. Happy path, discovery timeout, command timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { BatchWriteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { newRunId } from '#shared/ids.ts';
import { batchSk, groupPk, nodeSk, type BatchItem, type NodeRunItem } from '#shared/runs-table.ts';
import type { RunRequestInput } from '#shared/messages.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { FakeAgent, type Behaviour } from '../helpers/fake-agent.ts';
import { nodeItem } from '../helpers/factories.ts';
import { MAX_BATCHES } from '#functions/run/plan-run.ts';
import type { FinishOutput as RunOutcome } from '#functions/run/finish-run.ts';
import { RUN_ERRORS, runOutcomeOf } from '#shared/run-errors.ts';

let t: TestStack;
const agents: FakeAgent[] = [];

async function agent(nodeId: string, role: string, behaviour: Behaviour): Promise<FakeAgent> {
  const a = new FakeAgent(t.sqs, t.stack.file.repliesQueueUrl, nodeId, { role }, behaviour);
  agents.push(a);
  await a.start(t.stack.file.stage);
  await eventually(async () => {
    const out = await t.db.send(new GetCommand({ TableName: t.stack.file.nodesTable, Key: { nodeId } }));
    return out.Item;
  });
  return a;
}

async function run(input: Omit<RunRequestInput, 'runId'>) {
  const runId = newRunId();
  const { executionArn } = await t.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: t.stack.file.stateMachines.run,
      name: runId,
      input: JSON.stringify({ runId, caller: 'test', ...input }),
    }),
  );
  const execution = await eventually(async () => {
    const d = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));
    return d.status === 'RUNNING' ? undefined : d;
  }, 40_000);
  // Node items are in their group's partition (one group here), the run's own items in the run's.
  const get = async <T>(sk: string) =>
    (
      await t.db.send(
        new GetCommand({
          TableName: t.stack.file.runsTable,
          Key: { runId: sk.startsWith('node#') ? groupPk(runId, 0, 0) : runId, sk },
        }),
      )
    ).Item as T;
  // The outcome: the output of a run whose hosts all succeeded, the cause of one ended HostsFailed.
  return { runId, execution, output: runOutcomeOf(execution) as unknown as RunOutcome, get };
}

beforeAll(async () => {
  t = await startTestStack();
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await t?.stop();
});

describe('run state machine', () => {
  it('runs on the matching hosts and finishes as soon as every result is in', async () => {
    const web = await agent('sm-web-1', 'sm-web', 'ack-and-result');
    await agent('sm-db-1', 'sm-db', 'ack-and-result');

    const { execution, output, get } = await run({
      command: { shell: 'hostname' },
      filter: { fact: ['role=sm-web'] },
      options: { discoveryTimeoutSec: 30, timeoutSec: 30 },
    });

    expect(execution.status).toBe('SUCCEEDED');
    expect(output.status).toBe('succeeded');
    expect(output.summary).toMatchObject({ expected: 1, discovered: 1, succeeded: 1, exitCode: 0 });
    expect(web.received).toHaveLength(1);
    // Both waits were released by ingest through their task tokens, not by a timeout.
    const batch = await get<BatchItem & { acksDoneAt?: number; resultsDoneAt?: number }>(batchSk(0));
    expect(batch.acksDoneAt).toBeTypeOf('number');
    expect(batch.resultsDoneAt).toBeTypeOf('number');
    expect(batch).not.toHaveProperty('ackToken');
    const node = await get<NodeRunItem>(nodeSk('sm-web-1'));
    expect(node).toMatchObject({ status: 'succeeded', exitCode: 0, stdout: { text: 'sm-web-1\n' } });
  });

  it('moves on after the discovery timeout when a host never acknowledges', async () => {
    await agent('sm-silent-1', 'sm-silent', 'silent');

    const { execution, output, get } = await run({
      command: { shell: 'true' },
      filter: { fact: ['role=sm-silent'] },
      options: { discoveryTimeoutSec: 1, timeoutSec: 5 },
    });

    expect(execution).toMatchObject({ status: 'FAILED', error: RUN_ERRORS.hostsFailed });
    expect(output.summary).toMatchObject({ expected: 1, discovered: 0, noResponse: 1, exitCode: 3 });
    const node = await get<NodeRunItem>(nodeSk('sm-silent-1'));
    expect(node.status).toBe('no_response');
    const batch = await get<BatchItem & { acksDoneAt?: number }>(batchSk(0));
    expect(batch.acksDoneAt).toBeUndefined();
  });

  it('marks a host that acknowledged but never reported as timed out after the command timeout', async () => {
    await agent('sm-stuck-1', 'sm-stuck', 'ack-only');

    const { execution, output, get } = await run({
      command: { shell: 'sleep 100' },
      filter: { fact: ['role=sm-stuck'] },
      options: { discoveryTimeoutSec: 10, timeoutSec: 1 },
    });

    expect(execution).toMatchObject({ status: 'FAILED', error: RUN_ERRORS.hostsFailed });
    expect(output.summary).toMatchObject({ expected: 1, discovered: 1, timedOut: 1, exitCode: 3 });
    const node = await get<NodeRunItem>(nodeSk('sm-stuck-1'));
    expect(node).toMatchObject({ status: 'timed_out', closed: true });
    const batch = await get<BatchItem & { acksDoneAt?: number; resultsDoneAt?: number }>(batchSk(0));
    expect(batch.acksDoneAt).toBeTypeOf('number');
    expect(batch.resultsDoneAt).toBeUndefined();
  });

  it('fails the execution with the reason when the request is invalid', async () => {
    const { execution } = await run({ command: { shell: 'true' }, filter: { select: 'role=web and (' } });

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('InvalidRunRequest');
    expect(execution.cause).toContain('column');
  });

  it('refuses a run with more batches than one execution can go through, before writing or sending anything', async () => {
    const now = Date.now();
    const hosts = Array.from({ length: MAX_BATCHES + 1 }, (_, i) => `sm-many-${i}`);
    for (let i = 0; i < hosts.length; i += 25) {
      const items = hosts
        .slice(i, i + 25)
        .map((nodeId) =>
          nodeItem({ nodeId, identity: nodeId, facts: { role: 'sm-many' }, lastSeen: now, expiresAt: 0 }),
        );
      await t.db.send(
        new BatchWriteCommand({
          RequestItems: { [t.stack.file.nodesTable]: items.map((Item) => ({ PutRequest: { Item } })) },
        }),
      );
    }

    const { execution, get } = await run({
      command: { shell: 'true' },
      filter: { fact: ['role=sm-many'] },
      options: { batchSize: 1 },
    });

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('InvalidRunRequest');
    expect(execution.cause).toContain(`${MAX_BATCHES + 1} batches, more than the ${MAX_BATCHES}`);
    expect(await get(batchSk(0))).toBeUndefined();
  });

  it('runs batches one after another and stops after --max-errors', async () => {
    for (const id of ['sm-batch-1', 'sm-batch-2', 'sm-batch-3']) await agent(id, 'sm-batch', 'silent');

    const { execution, output, get } = await run({
      command: { shell: 'true' },
      filter: { fact: ['role=sm-batch'] },
      options: { discoveryTimeoutSec: 1, timeoutSec: 5, batchSize: 1, maxErrors: 0 },
    });

    expect(execution.error).toBe(RUN_ERRORS.hostsFailed);
    expect(output.summary).toMatchObject({ expected: 3, noResponse: 1, skipped: 2, exitCode: 3 });
    expect(output.summary.stoppedEarly).toContain('--max-errors 0');
    expect((await get<BatchItem>(batchSk(1))).dispatchedAt).toBeUndefined();
  });

  it('cancels a run: acknowledged hosts stop their command, silent ones are given up, the run finishes', async () => {
    await agent('sm-busy-1', 'sm-cancel', 'ack-only');
    await agent('sm-mute-1', 'sm-cancel', 'silent');
    const runId = newRunId();
    const { executionArn } = await t.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: t.stack.file.stateMachines.run,
        name: runId,
        input: JSON.stringify({
          runId,
          caller: 'test',
          command: { shell: 'sleep 100' },
          filter: { fact: ['role=sm-cancel'] },
          options: { discoveryTimeoutSec: 60, timeoutSec: 100 },
        }),
      }),
    );
    await eventually(async () => {
      const node = await t.db.send(
        new GetCommand({
          TableName: t.stack.file.runsTable,
          Key: { runId: groupPk(runId, 0, 0), sk: nodeSk('sm-busy-1') },
        }),
      );
      return node.Item?.status === 'acked' ? true : undefined;
    });

    const cancel = await t.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: t.stack.file.stateMachines.cancel,
        name: `cancel-${runId}`,
        input: JSON.stringify({ runId, caller: 'operator' }),
      }),
    );
    const cancelled = await eventually(async () => {
      const d = await t.sfn.send(new DescribeExecutionCommand({ executionArn: cancel.executionArn }));
      return d.status === 'RUNNING' ? undefined : d;
    });
    const finished = await eventually(async () => {
      const d = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return d.status === 'RUNNING' ? undefined : d;
    }, 20_000);

    expect(JSON.parse(cancelled.output!)).toEqual({ runId, status: 'cancelled', stopping: 1, abandoned: 1 });
    // A cancelled run completed with hosts given up on: the execution ends HostsFailed.
    expect(finished).toMatchObject({ status: 'FAILED', error: RUN_ERRORS.hostsFailed });
    const output = runOutcomeOf(finished) as unknown as RunOutcome;
    expect(output.status).toBe('cancelled');
    expect(output.summary).toMatchObject({ expected: 2, cancelled: 2 });
  });
});
