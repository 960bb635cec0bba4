/**
 * A run's id is its execution's name: runs started outside the CLI (a schedule, a lifecycle hook,
 * `sls invoke stepf`) have one without naming it, cannot take another run's id, and a clash is
 * refused as RunExists without touching the run that exists. The local stack, the real handlers,
 * and the CLI as a child process for `drover runs` and `drover show`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { META_SK, nodeSk, type RunMetaItem } from '#shared/runs-table.ts';
import { RUN_ERRORS } from '#shared/run-errors.ts';
import { describeLambdaCause } from '#shared/lambda-errors.ts';
import { runsDocumentSchema, runDocumentSchema } from '#cli/output/schemas.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';
import { FakeAgent } from '../helpers/fake-agent.ts';
import { planRun } from '#functions/run/plan-run.ts';
import { RunStore } from '#shared/stores/runs-store.ts';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { runNodeOf } from '../helpers/run-seed.ts';

let t: TestStack;
let agent: FakeAgent | undefined;

beforeAll(async () => {
  t = await startTestStack();
});

afterAll(async () => {
  await stopCliProcesses();
  await agent?.stop();
  await t?.stop();
});

/** Starts the run state machine as `sls invoke stepf` or a schedule would, and waits for its end. */
async function execute(name: string, input: Record<string, unknown>) {
  const { executionArn } = await t.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: t.stack.file.stateMachines.run,
      name,
      input: JSON.stringify(input),
    }),
  );
  return eventually(async () => {
    const d = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));
    return d.status === 'RUNNING' ? undefined : d;
  }, 40_000);
}

async function item<T>(runId: string, sk: string): Promise<T | undefined> {
  const out = await t.db.send(
    new GetCommand({ TableName: t.stack.file.runsTable, Key: { runId, sk }, ConsistentRead: true }),
  );
  return out.Item as T | undefined;
}

const request = (role: string) => ({
  caller: 'scheduler',
  command: { shell: 'true' },
  filter: { fact: [`role=${role}`] },
  options: { discoveryTimeoutSec: 5, timeoutSec: 5 },
});

describe('run ids', () => {
  it('gives a run started without a runId its execution name as id; the output carries the exit code', async () => {
    // Prepare: one host answers.
    agent = new FakeAgent(
      t.sqs,
      t.stack.file.repliesQueueUrl,
      'ids-web-1',
      { role: 'ids-web' },
      'ack-and-result',
    );
    await agent.start(t.stack.file.stage);
    await eventually(async () => {
      const out = await t.db.send(
        new GetCommand({ TableName: t.stack.file.nodesTable, Key: { nodeId: 'ids-web-1' } }),
      );
      return out.Item;
    });
    const name = 'nightly-restart_3f2a9c1e-77b0-4c1d-9e55-0a6b1c2d3e4f';

    // Act
    const execution = await execute(name, request('ids-web'));

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toMatchObject({ runId: name, status: 'succeeded', exitCode: 0 });
    expect(await item<RunMetaItem>(name, META_SK)).toMatchObject({ runId: name, caller: 'scheduler' });
    expect(await runNodeOf(t.db, t.stack.file.runsTable, name, 'ids-web-1')).toMatchObject({
      status: 'succeeded',
    });
  });

  it('lets drover runs and drover show find a run started outside the CLI', async () => {
    const name = 'lifecycle-hook-0001';
    await execute(name, request('ids-nobody'));

    const runs = await droverCli(t.home, ['runs', '--json', '--limit', '50']);
    const shown = await droverCli(t.home, ['show', name, '--json']);

    expect(runs.code).toBe(0);
    expect(runsDocumentSchema.parse(JSON.parse(runs.stdout)).runs.map((r) => r.runId)).toContain(name);
    expect(shown.code).toBe(1);
    expect(runDocumentSchema.parse(JSON.parse(shown.stdout))).toMatchObject({
      runId: name,
      status: 'no_match',
    });
  });

  it("refuses an input naming another run's id, and leaves that run as it was", async () => {
    // Prepare: a finished run.
    const first = 'first-run';
    await execute(first, request('ids-nobody'));
    const before = await item<RunMetaItem>(first, META_SK);

    // Act: a second execution claims the first run's id in its input.
    const execution = await execute('second-run', { ...request('ids-nobody'), runId: first });

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe(RUN_ERRORS.invalidRequest);
    expect(describeLambdaCause(execution.cause)).toContain(
      `runId "${first}" is not this execution's name "second-run"`,
    );
    expect(await item<RunMetaItem>(first, META_SK)).toEqual(before);
    expect(await item('second-run', META_SK)).toBeUndefined();
  });

  it('refuses a run whose id exists as RunExists and touches nothing of the existing run', async () => {
    // Prepare: a live run of that id (from an execution of that name whose history has expired).
    const runId = 'reused-name';
    const live: RunMetaItem = {
      runId,
      sk: META_SK,
      status: 'running',
      action: 'exec',
      command: { shell: 'sleep 600' },
      filter: { with: [], fact: [], class: [], identity: [] },
      options: { timeoutSec: 600, discoveryTimeoutSec: 10, batchSleepSec: 0, staleAfterHeartbeats: 3 },
      caller: 'alice',
      createdAt: 1,
      expected: 1,
      batchCount: 1,
      executionStart: '2026-01-01T00:00:00.000Z',
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    };
    await t.db.send(new PutCommand({ TableName: t.stack.file.runsTable, Item: live }));
    const node = { runId, sk: nodeSk('busy-1'), nodeId: 'busy-1', batch: 0, status: 'acked', expiresAt: 0 };
    await t.db.send(new PutCommand({ TableName: t.stack.file.runsTable, Item: node }));

    // Act
    const execution = await execute(runId, request('ids-nobody'));

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe(RUN_ERRORS.exists);
    expect(await item(runId, META_SK)).toEqual(live);
    expect(await item(runId, nodeSk('busy-1'))).toEqual(node);
  });

  it("lets a retried Plan of the same execution write its run again, but not another execution's", async () => {
    // Prepare: Plan ran once for this execution (Step Functions may retry it after a Lambda error).
    const deps = {
      runs: new RunStore(t.db, t.stack.file.runsTable),
      nodes: new NodesStore(t.db, t.stack.file.nodesTable),
      now: () => Date.now(),
      retentionDays: 1,
    };
    const input = (startTime: string) => ({
      request: request('ids-nobody'),
      execution: { name: 'retried-plan', startTime },
    });
    await planRun(input('2026-12-01T10:00:00.000Z'), deps);

    // Act
    const again = await planRun(input('2026-12-01T10:00:00.000Z'), deps);
    const other = planRun(input('2026-12-01T11:00:00.000Z'), deps);

    // Assess
    expect(again).toMatchObject({ runId: 'retried-plan' });
    await expect(other).rejects.toMatchObject({ name: RUN_ERRORS.exists });
  });
});
