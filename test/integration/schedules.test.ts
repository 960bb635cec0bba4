/**
 * Schedules on the local stack, through the real Scheduler SDK client, with the scheduler's clock
 * in the test's hands: fires start the real run state machine; overlap is decided by Plan and
 * Finish (the schedule's turn in the runs table), as in AWS; events land on the stage's bus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { DescribeExecutionCommand, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createSchedulerClient } from '#shared/aws.ts';
import { META_SK, type RunMetaItem } from '#shared/runs-table.ts';
import { RUN_ERRORS } from '#shared/run-errors.ts';
import type { RunRequestInput } from '#shared/messages.ts';
import type { FireRecord } from '#local/scheduler.ts';
import { ScheduleLock } from '#shared/stores/schedule-lock.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { FakeAgent, type Behaviour } from '../helpers/fake-agent.ts';

let t: TestStack;
let scheduler: SchedulerClient;
let clock = Date.parse('2026-12-01T10:00:00Z');
const agents: FakeAgent[] = [];
const MINUTE = 60_000;

const slowAgent = () => agents.find((a) => a.nodeId === 'sch-slow-1')!;

async function agent(nodeId: string, role: string, behaviour: Behaviour): Promise<void> {
  const a = new FakeAgent(t.sqs, t.stack.file.repliesQueueUrl, nodeId, { role }, behaviour);
  agents.push(a);
  await a.start(t.stack.file.stage);
  await eventually(async () => {
    const out = await t.db.send(new GetCommand({ TableName: t.stack.file.nodesTable, Key: { nodeId } }));
    return out.Item;
  });
}

function definition(
  name: string,
  run: Omit<RunRequestInput, 'runId' | 'schedule'>,
  extra: Partial<CreateScheduleCommandInput> = {},
  allowOverlap = false,
): CreateScheduleCommandInput {
  return {
    Name: name,
    GroupName: t.stack.file.scheduleGroup,
    ScheduleExpression: 'rate(5 minutes)',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: {
      Arn: t.stack.file.stateMachines.run!,
      RoleArn: t.stack.file.schedulerRoleArn!,
      Input: JSON.stringify({ caller: 'test', ...run, schedule: { name, allowOverlap } }),
    },
    ...extra,
  };
}

/** Moves the scheduler's clock and lets it fire what is due. */
function advance(ms: number): FireRecord[] {
  clock += ms;
  return t.stack.scheduler.tick();
}

async function finished(
  fire: FireRecord,
): Promise<{ execution: DescribeExecutionCommandOutput; meta: RunMetaItem }> {
  const executionArn = `${t.stack.file.stateMachines.run!.replace(':stateMachine:', ':execution:')}:${fire.executionName}`;
  const execution = await eventually(async () => {
    const d = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));
    return d.status === 'RUNNING' ? undefined : d;
  }, 40_000);
  const out = await t.db.send(
    new GetCommand({ TableName: t.stack.file.runsTable, Key: { runId: fire.executionName, sk: META_SK } }),
  );
  return { execution, meta: out.Item as RunMetaItem };
}

async function meta(runId: string): Promise<RunMetaItem | undefined> {
  const out = await t.db.send(
    new GetCommand({ TableName: t.stack.file.runsTable, Key: { runId, sk: META_SK } }),
  );
  return out.Item as RunMetaItem | undefined;
}

const events = (type: string) =>
  t.stack.bus.recent.filter((e) => e['detail-type'] === type).map((e) => e.detail as Record<string, unknown>);

beforeAll(async () => {
  t = await startTestStack({ schedulerClock: () => clock });
  scheduler = createSchedulerClient({
    region: t.stack.file.region,
    credentials: t.stack.file.credentials,
    endpoints: { scheduler: t.stack.file.endpoints.scheduler },
  });
  await agent('sch-ok-1', 'sch-ok', 'ack-and-result');
  await agent('sch-slow-1', 'sch-slow', 'ack-only');
  await agent('sch-bad-1', 'sch-bad', 'ack-and-fail');
}, 60_000);

afterAll(async () => {
  scheduler?.destroy();
  await Promise.all(agents.map((a) => a.stop()));
  await t?.stop();
});

describe('local scheduler', () => {
  it('fires a rate schedule at creation and every period; its runs carry the schedule name', async () => {
    await scheduler.send(
      new CreateScheduleCommand(
        definition('every5', { command: { shell: 'true' }, filter: { fact: ['role=sch-ok'] } }),
      ),
    );
    const [first] = advance(0);
    expect(first).toMatchObject({ schedule: 'every5', scheduledTime: clock });
    const done = await finished(first!);
    expect(done.execution.status).toBe('SUCCEEDED');
    expect(done.meta).toMatchObject({ schedule: 'every5', status: 'succeeded', expected: 1 });

    expect(advance(4 * MINUTE)).toEqual([]);
    const [second] = advance(MINUTE);
    expect(second?.executionName).not.toBe(first?.executionName);
    expect((await finished(second!)).meta.status).toBe('succeeded');
    await scheduler.send(
      new DeleteScheduleCommand({ Name: 'every5', GroupName: t.stack.file.scheduleGroup }),
    );
  });

  it('fires nothing while paused, and resumes from the next fire time', async () => {
    await scheduler.send(
      new CreateScheduleCommand(
        definition('pausable', { command: { shell: 'true' }, filter: { fact: ['role=sch-ok'] } }),
      ),
    );
    const [first] = advance(0);
    await finished(first!);
    const paused = definition(
      'pausable',
      { command: { shell: 'true' }, filter: { fact: ['role=sch-ok'] } },
      { State: 'DISABLED' },
    );
    await scheduler.send(new UpdateScheduleCommand(paused));
    expect(
      (await scheduler.send(new GetScheduleCommand({ Name: 'pausable', GroupName: paused.GroupName }))).State,
    ).toBe('DISABLED');
    expect(advance(30 * MINUTE)).toEqual([]);

    await scheduler.send(new UpdateScheduleCommand({ ...paused, State: 'ENABLED' }));
    expect(advance(0)).toEqual([]);
    const resumed = advance(5 * MINUTE);
    expect(resumed).toHaveLength(1);
    await finished(resumed[0]!);
    await scheduler.send(new DeleteScheduleCommand({ Name: 'pausable', GroupName: paused.GroupName }));
  });

  it('skips a fire while the previous run is still going, then runs again once it ended', async () => {
    const slow = {
      command: { shell: 'sleep 600' },
      filter: { fact: ['role=sch-slow'] },
      options: { timeoutSec: 1 },
    };
    await scheduler.send(
      new CreateScheduleCommand(definition('overlap', slow, { ScheduleExpression: 'rate(1 minute)' })),
    );
    const [first] = advance(0);
    await eventually(async () =>
      (await meta(first!.executionName))?.status === 'running' ? true : undefined,
    );

    const [second] = advance(MINUTE);
    const skipped = await finished(second!);
    expect(skipped.execution.status).toBe('SUCCEEDED');
    expect(skipped.meta).toMatchObject({
      status: 'skipped',
      schedule: 'overlap',
      expected: 0,
      skippedFor: first!.executionName,
      summary: { exitCode: 0, expected: 0 },
    });
    // Nothing was sent for the skipped fire: the slow host saw the first run's request only.
    expect(slowAgent().received.map((r) => r.runId)).not.toContain(second!.executionName);
    expect(events('Scheduled Run Skipped')).toContainEqual({
      runId: second!.executionName,
      schedule: 'overlap',
      runningRunId: first!.executionName,
    });

    // The first run times out on its host (an ack, no result): it ends, and gives the turn back.
    expect((await finished(first!)).meta.status).toBe('failed');
    const [third] = advance(MINUTE);
    await eventually(async () =>
      (await meta(third!.executionName))?.status === 'running' ? true : undefined,
    );
    await scheduler.send(
      new DeleteScheduleCommand({ Name: 'overlap', GroupName: t.stack.file.scheduleGroup }),
    );
    expect((await finished(third!)).meta.status).toBe('failed');
  }, 90_000);

  it('with allowOverlap, starts a run even while the previous one is going', async () => {
    const slow = {
      command: { shell: 'sleep 600' },
      filter: { fact: ['role=sch-slow'] },
      options: { timeoutSec: 1 },
    };
    await scheduler.send(
      new CreateScheduleCommand(
        definition('overlapping', slow, { ScheduleExpression: 'rate(1 minute)' }, true),
      ),
    );
    const [first] = advance(0);
    await eventually(async () =>
      (await meta(first!.executionName))?.status === 'running' ? true : undefined,
    );
    const [second] = advance(MINUTE);
    await eventually(async () =>
      (await meta(second!.executionName))?.status === 'running' ? true : undefined,
    );
    await scheduler.send(
      new DeleteScheduleCommand({ Name: 'overlapping', GroupName: t.stack.file.scheduleGroup }),
    );
    expect((await finished(first!)).meta.status).toBe('failed');
    expect((await finished(second!)).meta.status).toBe('failed');
  }, 90_000);

  it('deleting a schedule lets its running run finish and fires no more', async () => {
    const slow = {
      command: { shell: 'sleep 600' },
      filter: { fact: ['role=sch-slow'] },
      options: { timeoutSec: 1 },
    };
    await scheduler.send(new CreateScheduleCommand(definition('doomed', slow)));
    const [first] = advance(0);
    await eventually(async () =>
      (await meta(first!.executionName))?.status === 'running' ? true : undefined,
    );
    await scheduler.send(
      new DeleteScheduleCommand({ Name: 'doomed', GroupName: t.stack.file.scheduleGroup }),
    );

    const done = await finished(first!);
    // It completed; its host timed out, so the execution ends HostsFailed.
    expect(done.execution).toMatchObject({ status: 'FAILED', error: RUN_ERRORS.hostsFailed });
    expect(done.meta.summary).toMatchObject({ expected: 1, timedOut: 1 });
    expect(advance(60 * MINUTE)).toEqual([]);
    expect(t.stack.scheduler.fires.filter((f) => f.schedule === 'doomed')).toHaveLength(1);
  }, 60_000);

  it('records a run whose filter matches nothing with exit 1, as no_match, not as a failure', async () => {
    await scheduler.send(
      new CreateScheduleCommand(
        definition('nobody', { command: { shell: 'true' }, filter: { fact: ['role=nowhere'] } }),
      ),
    );
    const [fire] = advance(0);
    const done = await finished(fire!);
    expect(done.execution.status).toBe('SUCCEEDED');
    expect(done.meta).toMatchObject({ status: 'no_match', schedule: 'nobody', summary: { exitCode: 1 } });
    expect(events('Run Failed').filter((e) => e.schedule === 'nobody')).toEqual([]);
    await scheduler.send(
      new DeleteScheduleCommand({ Name: 'nobody', GroupName: t.stack.file.scheduleGroup }),
    );
  });

  it('emits Run Failed with the schedule name when a run ends with failures', async () => {
    await scheduler.send(
      new CreateScheduleCommand(
        definition('breaks', { command: { shell: 'false' }, filter: { fact: ['role=sch-bad'] } }),
      ),
    );
    const [fire] = advance(0);
    const done = await finished(fire!);
    expect(done.meta).toMatchObject({ status: 'failed', summary: { exitCode: 2 } });
    await eventually(async () =>
      events('Run Failed').some((e) => e.runId === fire!.executionName) ? true : undefined,
    );
    expect(events('Run Failed').find((e) => e.runId === fire!.executionName)).toMatchObject({
      schedule: 'breaks',
      status: 'failed',
      exitCode: 2,
    });
    await scheduler.send(
      new DeleteScheduleCommand({ Name: 'breaks', GroupName: t.stack.file.scheduleGroup }),
    );
  });

  it('records a run Plan refuses (a filter edited outside drover) and emits Run Failed for it', async () => {
    await scheduler.send(
      new CreateScheduleCommand(
        definition('edited', { command: { shell: 'true' }, filter: { select: 'role=web and (' } }),
      ),
    );
    const [fire] = advance(0);
    const done = await finished(fire!);
    expect(done.execution.status).toBe('FAILED');
    expect(done.meta).toMatchObject({ status: 'invalid', schedule: 'edited', summary: { exitCode: 4 } });
    await eventually(async () =>
      events('Run Failed').some((e) => e.runId === fire!.executionName) ? true : undefined,
    );
    expect(events('Run Failed').find((e) => e.runId === fire!.executionName)).toMatchObject({
      schedule: 'edited',
      status: 'invalid',
      exitCode: 4,
    });
    await scheduler.send(
      new DeleteScheduleCommand({ Name: 'edited', GroupName: t.stack.file.scheduleGroup }),
    );
  });

  it("may start only this stage's run state machine (the schedule role's policy)", async () => {
    const other = definition('elsewhere', { command: { shell: 'true' } });
    other.Target!.Arn = t.stack.file.stateMachines.cancel!;
    await scheduler.send(new CreateScheduleCommand(other));
    const [fire] = advance(0);
    expect(fire?.error).toMatch(
      /^AccessDeniedException: .* is not authorized to perform states:StartExecution/,
    );
    await expect(
      t.sfn.send(
        new DescribeExecutionCommand({
          executionArn: `${t.stack.file.stateMachines.cancel!.replace(':stateMachine:', ':execution:')}:${fire!.executionName}`,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
    await scheduler.send(
      new DeleteScheduleCommand({ Name: 'elsewhere', GroupName: t.stack.file.scheduleGroup }),
    );
  });
});

describe('local Scheduler API', () => {
  const ok = () => definition('api-check', { command: { shell: 'true' } });

  it.each([
    ['a name with a space', { Name: 'bad name' }, 'ValidationException'],
    ['a name of 65 characters', { Name: 'n'.repeat(65) }, 'ValidationException'],
    ['a cron of five fields', { ScheduleExpression: 'cron(0 3 * * *)' }, 'ValidationException'],
    ['both day fields given', { ScheduleExpression: 'cron(0 3 * * MON *)' }, 'ValidationException'],
    ['an unknown time zone', { ScheduleExpressionTimezone: 'Mars/Olympus' }, 'ValidationException'],
    [
      'a flexible window without its length',
      { FlexibleTimeWindow: { Mode: 'FLEXIBLE' } },
      'ValidationException',
    ],
    [
      'a window over a day',
      { FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 1441 } },
      'ValidationException',
    ],
    ['a group that does not exist', { GroupName: 'drover-other' }, 'ResourceNotFoundException'],
  ] as const)('refuses %s', async (_what, change, error) => {
    await expect(
      scheduler.send(new CreateScheduleCommand({ ...ok(), ...change } as CreateScheduleCommandInput)),
    ).rejects.toMatchObject({ name: error });
  });

  it('refuses a Step Functions target input that is not JSON, or over 256 KiB', async () => {
    const notJson = ok();
    notJson.Target!.Input = 'not json';
    await expect(scheduler.send(new CreateScheduleCommand(notJson))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    const big = ok();
    big.Target!.Input = JSON.stringify({ pad: 'x'.repeat(262_144) });
    await expect(scheduler.send(new CreateScheduleCommand(big))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('refuses a second schedule of the same name, and names a missing one', async () => {
    await scheduler.send(new CreateScheduleCommand(ok()));
    await expect(scheduler.send(new CreateScheduleCommand(ok()))).rejects.toMatchObject({
      name: 'ConflictException',
    });
    const group = t.stack.file.scheduleGroup;
    const listed = await scheduler.send(new ListSchedulesCommand({ GroupName: group, NamePrefix: 'api-' }));
    expect(listed.Schedules?.map((s) => s.Name)).toEqual(['api-check']);
    await scheduler.send(new DeleteScheduleCommand({ Name: 'api-check', GroupName: group }));
    await expect(
      scheduler.send(new GetScheduleCommand({ Name: 'api-check', GroupName: group })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(
      scheduler.send(new DeleteScheduleCommand({ Name: 'api-check', GroupName: group })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(scheduler.send(new ListSchedulesCommand({ MaxResults: 101 }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });
});

describe("a schedule's turn (Plan and Finish)", () => {
  it('is taken again by the same run (a retried Plan), refused to another, and expires', async () => {
    const lock = new ScheduleLock(t.db, t.stack.file.runsTable);
    const now = Date.parse('2026-12-01T10:00:00Z');
    expect(await lock.acquire('turns', 'RUN-A', now, now + MINUTE)).toBe(true);
    expect(await lock.acquire('turns', 'RUN-A', now + 1, now + MINUTE)).toBe(true);
    expect(await lock.acquire('turns', 'RUN-B', now + 2, now + MINUTE)).toBe(false);
    expect(await lock.holder('turns')).toBe('RUN-A');
    // A run that died without Finish holds the turn only until its longest possible end.
    expect(await lock.acquire('turns', 'RUN-B', now + MINUTE + 1, now + 2 * MINUTE)).toBe(true);
    expect(await lock.holder('turns')).toBe('RUN-B');
  });

  it('is given back only by its holder, and giving it back twice is harmless', async () => {
    const lock = new ScheduleLock(t.db, t.stack.file.runsTable);
    const now = Date.parse('2026-12-01T10:00:00Z');
    await lock.acquire('handback', 'RUN-A', now, now + MINUTE);
    await lock.release('handback', 'RUN-B');
    expect(await lock.holder('handback')).toBe('RUN-A');
    await lock.release('handback', 'RUN-A');
    await lock.release('handback', 'RUN-A');
    expect(await lock.holder('handback')).toBeUndefined();
    expect(await lock.acquire('handback', 'RUN-C', now, now + MINUTE)).toBe(true);
  });
});
