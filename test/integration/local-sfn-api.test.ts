/**
 * The local Step Functions endpoint through the real SDK client: the history, state machine and
 * quota behaviour an operator meets in AWS (GetExecutionHistory, DescribeStateMachine,
 * ListStateMachines; 256 KiB payloads; 25,000 history events), with AWS's error names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ListStateMachinesCommand,
  SFNClient,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  paginateGetExecutionHistory,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { createSfnClient } from '#shared/aws.ts';
import { createApiServer, listen } from '#local/api-server.ts';
import { LocalStepFunctions } from '#local/step-functions.ts';
import type { LambdaRuntime } from '#local/lambda-runtime.ts';
import { LocalEventBus } from '#local/event-bus.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
});

afterAll(async () => {
  await t?.stop();
});

async function finished(sfn: SFNClient, executionArn: string) {
  return eventually(async () => {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return d.status === 'RUNNING' ? undefined : d;
  }, 60_000);
}

async function history(sfn: SFNClient, executionArn: string, pageSize: number): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  for await (const page of paginateGetExecutionHistory({ client: sfn, pageSize }, { executionArn })) {
    events.push(...(page.events ?? []));
  }
  return events;
}

describe('local Step Functions API', () => {
  it('answers GetExecutionHistory with the failed state, page by page', async () => {
    // Prepare: an exec request without a command fails in Plan.
    const { executionArn } = await t.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: t.stack.file.stateMachines.run,
        name: 'history-of-a-refused-run',
        input: JSON.stringify({ caller: 'test', action: 'exec' }),
      }),
    );
    await finished(t.sfn, executionArn!);

    // Act
    const events = await history(t.sfn, executionArn!, 3);

    // Assess
    expect(events[0]).toMatchObject({ id: 1, type: 'ExecutionStarted' });
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    const failed = events.find((e) => e.type === 'TaskFailed');
    expect(failed?.taskFailedEventDetails).toMatchObject({ error: 'InvalidRunRequest' });
    expect(failed?.taskFailedEventDetails?.cause).toContain('an exec request needs a command');
    expect(
      events.filter((e) => e.type === 'TaskStateEntered').map((e) => e.stateEnteredEventDetails?.name),
    ).toEqual(['Plan', 'FinishFailed']);
    expect(events.at(-1)).toMatchObject({
      type: 'ExecutionFailed',
      executionFailedEventDetails: { error: 'InvalidRunRequest' },
    });
  });

  it('answers DescribeStateMachine and ListStateMachines', async () => {
    const described = await t.sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: t.stack.file.stateMachines.run }),
    );
    const listed = await t.sfn.send(new ListStateMachinesCommand({}));

    expect(described).toMatchObject({ name: 'drover-local-run', status: 'ACTIVE', type: 'STANDARD' });
    expect(JSON.parse(described.definition!)).toMatchObject({ StartAt: 'Plan' });
    expect(listed.stateMachines?.map((m) => m.stateMachineArn)).toEqual(
      expect.arrayContaining([t.stack.file.stateMachines.run, t.stack.file.stateMachines.cancel]),
    );
    await expect(
      t.sfn.send(
        new DescribeStateMachineCommand({ stateMachineArn: `${t.stack.file.stateMachines.run}-nope` }),
      ),
    ).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
  });

  it('refuses a run request over 256 KiB at StartExecution with ValidationException', async () => {
    const input = JSON.stringify({ caller: 'test', command: { shell: `echo ${'x'.repeat(262_144)}` } });

    const start = t.sfn.send(
      new StartExecutionCommand({ stateMachineArn: t.stack.file.stateMachines.run, name: 'too-big', input }),
    );

    await expect(start).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('refuses a SendTaskSuccess output over 256 KiB with ValidationException', async () => {
    const send = t.sfn.send(
      new SendTaskSuccessCommand({ taskToken: 'any', output: JSON.stringify({ pad: 'x'.repeat(262_144) }) }),
    );

    await expect(send).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('local Step Functions quotas inside an execution', () => {
  let server: Server;
  let sfn: SFNClient;
  let local: LocalStepFunctions;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'drover-sfn-'));
    // A Lambda runtime whose one function answers with a payload of the size the test asks.
    const lambdas = {
      resolveName: () => undefined,
      invoke: async (_name: string, payload: unknown) => ({
        pad: 'x'.repeat((payload as { size: number }).size),
      }),
    } as unknown as LambdaRuntime;
    local = new LocalStepFunctions(lambdas, 'arn:aws:states:us-east-1:000000000000:');
    server = createApiServer(local, new LocalEventBus(join(dir, 'events.jsonl')));
    const port = await listen(server);
    sfn = createSfnClient({
      region: 'us-east-1',
      endpoints: { sfn: `http://127.0.0.1:${port}` },
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  });

  afterAll(async () => {
    local?.stopAll();
    sfn?.destroy();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const task = {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: 'f', 'Payload.$': '$' },
    OutputPath: '$.Payload',
    // A quota error is not for a Catch to handle: this one must not take it.
    Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
    End: true,
  };

  it('fails the execution with States.DataLimitExceeded when a state returns more than 256 KiB', async () => {
    const arn = local.createStateMachine('payload', {
      StartAt: 'Big',
      States: { Big: task, Caught: { Type: 'Succeed' } },
    });

    const small = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'small', input: '{"size":1000}' }),
    );
    const big = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'big', input: '{"size":300000}' }),
    );

    expect((await finished(sfn, small.executionArn!)).status).toBe('SUCCEEDED');
    expect(await finished(sfn, big.executionArn!)).toMatchObject({
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
    });
  });

  it('fails an execution whose history reaches 25,000 events', async () => {
    // A loop that never ends by itself: each turn adds four events.
    const arn = local.createStateMachine('loop', {
      StartAt: 'Count',
      States: {
        Count: { Type: 'Pass', Next: 'Again' },
        Again: {
          Type: 'Choice',
          Choices: [{ Variable: '$.stop', IsPresent: true, Next: 'Done' }],
          Default: 'Count',
        },
        Done: { Type: 'Succeed' },
      },
    });

    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'forever', input: '{}' }),
    );

    expect(await finished(sfn, executionArn!)).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    const events = await history(sfn, executionArn!, 1000);
    expect(events.length).toBeGreaterThanOrEqual(24_990);
    expect(events.length).toBeLessThanOrEqual(25_001);
    expect(events.at(-1)).toMatchObject({ type: 'ExecutionFailed' });
  });
});

describe('local StartExecution of a name already used', () => {
  let server: Server;
  let sfn: SFNClient;
  let local: LocalStepFunctions;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'drover-sfn-names-'));
    const lambdas = { resolveName: () => undefined, invoke: async () => ({}) } as unknown as LambdaRuntime;
    local = new LocalStepFunctions(lambdas, 'arn:aws:states:us-east-1:000000000000:');
    server = createApiServer(local, new LocalEventBus(join(dir, 'events.jsonl')));
    sfn = createSfnClient({
      region: 'us-east-1',
      endpoints: { sfn: `http://127.0.0.1:${await listen(server)}` },
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  });

  afterAll(async () => {
    local?.stopAll();
    sfn?.destroy();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is idempotent for an open execution with the same input, ExecutionAlreadyExists otherwise (as AWS)', async () => {
    // Waits for $.seconds: open long enough to ask again, then closed.
    const arn = local.createStateMachine('wait', {
      StartAt: 'Hold',
      States: { Hold: { Type: 'Wait', SecondsPath: '$.seconds', End: true } },
    });
    const start = (input: string) =>
      sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'once', input }));

    const first = await start('{"seconds":1}');
    const again = await start('{"seconds":1}');
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate?.getTime()).toBe(first.startDate?.getTime());
    await expect(start('{"seconds":2}')).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });

    expect((await finished(sfn, first.executionArn!)).status).toBe('SUCCEEDED');
    // Closed: the name is used, whatever the input.
    await expect(start('{"seconds":1}')).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
  });
});
