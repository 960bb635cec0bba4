/**
 * lifecycle.asl.json's terminate path with reactions, on the local stack with real agents: the
 * terminated reactions of the groups reacting to the leaving host's group start and are waited for
 * (StartReactions, ReactionsPending, AwaitReaction) before the decommission run starts; one that
 * outlasts the bound (DROVER_DECOMMISSION_REACTIONS_SEC, 6 s here) is recorded as still running and
 * the decommission goes on; reactions that cannot be read are recorded ($.reactionsError) and the
 * decommission goes on. The later Node Terminated of the host runs them no second time.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeExecutionCommand, ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoLifecycleConfigStore, validateLifecycleConfig } from '#shared/stores/lifecycle-config.ts';
import { EventLog } from '#shared/event-log.ts';
import { ReactionStore, reactionKey } from '#shared/stores/reactions.ts';
import { ReactionWindows } from '#shared/stores/reaction-windows.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { addSilentHost, startFleet } from '../helpers/fleet.ts';
import { stopAll } from '../helpers/processes.ts';

const ENV = { DROVER_DECOMMISSION_REACTIONS_SEC: '6', DROVER_REACTION_WINDOW_SEC: '1' };
const previous = Object.fromEntries(Object.keys(ENV).map((k) => [k, process.env[k]]));
let t: TestStack;
let store: ReactionStore;
let n = 0;

beforeAll(async () => {
  Object.assign(process.env, ENV);
  t = await startTestStack();
  store = new ReactionStore(t.db, t.stack.file.lifecycleTable!);
  const configs = new DynamoLifecycleConfigStore(t.db, t.stack.file.lifecycleTable!);
  await configs.put(
    validateLifecycleConfig({
      asg: 'db',
      decommission: 'echo bye',
      updatedAt: Date.now(),
      updatedBy: 'test',
    }),
  );
  await startFleet(t, [
    { identity: 'lr-watch-1', facts: { group: 'lrwatch' } },
    { identity: 'lr-leave-1', facts: { group: 'lrleave' } },
    { identity: 'lr-leave-2', facts: { group: 'lrleave2' } },
    { identity: 'lr-leave-3', facts: { group: 'lrleave3' } },
  ]);
  await addSilentHost(t, 'lr-mute-1', { group: 'lrmute' });
}, 90_000);
afterAll(async () => {
  await stopAll();
  await t?.stop();
  for (const [k, v] of Object.entries(previous)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const reactions = (group: string, on: string, run: string) =>
  store.put({
    group,
    reactions: [{ on: 'terminated', group: on, run }],
    updatedAt: Date.now(),
    updatedBy: 'test',
  });

interface Output {
  action: {
    outcome?: { result: string; reason: string; runId?: string };
    reactions?: { state: string; runIds: string[]; runs: { runId: string; status: string }[] };
  };
  reactionsError?: { Error: string };
  result: { result: string; reason: string };
}

/** Runs the lifecycle state machine on a terminate action of `instanceId` (group db) to its end. */
async function terminate(instanceId: string): Promise<Output> {
  const { executionArn } = await t.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: t.stack.file.stateMachines.lifecycle!,
      name: `lr-${++n}-${Date.now()}`,
      input: JSON.stringify({
        version: '0',
        id: `e-${n}`,
        source: 'aws.autoscaling',
        'detail-type': 'EC2 Instance-terminate Lifecycle Action',
        time: new Date().toISOString(),
        detail: {
          LifecycleActionToken: randomUUID(),
          AutoScalingGroupName: 'db',
          LifecycleHookName: 'drover-local-terminate',
          EC2InstanceId: instanceId,
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        },
      }),
    }),
  );
  const d = await eventually(
    async () => {
      const out = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return out.status === 'RUNNING' ? undefined : out;
    },
    70_000,
    'the lifecycle execution to end',
  );
  expect(d.status).toBe('SUCCEEDED');
  return JSON.parse(d.output!) as Output;
}

const runExecution = (runId: string) =>
  t.sfn.send(
    new DescribeExecutionCommand({
      executionArn: t.stack.file.stateMachines.run!.replace(':stateMachine:', ':execution:') + `:${runId}`,
    }),
  );

describe('lifecycle terminate path with reactions', () => {
  it('runs the reactions to the end before the decommission starts, and not again on Node Terminated', async () => {
    await reactions('lrwatch', 'lrleave', 'echo "$DROVER_IDENTITY forgets the leaver"');
    const out = await terminate('lr-leave-1');

    expect(out.result).toEqual({ result: 'CONTINUE', reason: 'decommission succeeded' });
    const [reaction] = out.action.reactions!.runs;
    expect(out.action.reactions).toMatchObject({ state: 'done', runs: [{ status: 'succeeded' }] });
    expect(reaction!.runId).toMatch(/^reaction-before-[0-9a-f]{10}-[0-9a-f]{10}-lrwatch$/);
    const told = await runExecution(reaction!.runId);
    const decommission = await runExecution(out.action.outcome!.runId!);
    expect(told.stopDate!.getTime()).toBeLessThanOrEqual(decommission.startDate!.getTime());
    expect(JSON.parse(told.input!)).toMatchObject({
      caller: 'reaction:lrwatch:lrleave-terminated:lr-leave-1',
    });

    const log = new EventLog(t.db, t.stack.file.eventsTable!);
    const events = await eventually(async () => {
      const all = await log.between(Date.now() - 300_000, Date.now() + 60_000);
      return all.some((e) => e.type === 'Node Terminated' && e.nodeId === 'lr-leave-1') ? all : undefined;
    });
    const finished = events.find((e) => e.type === 'Decommission Finished' && e.nodeId === 'lr-leave-1');
    expect(finished?.detail).toMatchObject({
      reactions: [{ runId: reaction!.runId, status: 'succeeded' }],
      reactionsState: 'done',
    });
    const key = reactionKey('lrwatch', {
      on: 'terminated',
      group: 'lrleave',
      run: 'echo "$DROVER_IDENTITY forgets the leaver"',
    });
    expect(await new ReactionWindows(t.db, t.stack.file.lifecycleTable!).reacted('lr-leave-1')).toEqual([
      key,
    ]);
    // Node Terminated reached react: give a 1 s window time to close; no window run for it.
    await new Promise((r) => setTimeout(r, 3_000));
    const windows = await t.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: t.stack.file.stateMachines.run! }),
    );
    expect(
      (windows.executions ?? []).filter((e) => e.name?.startsWith('reaction-terminated-')).map((e) => e.name),
    ).toEqual([]);
  }, 90_000);

  it('records a reaction that outlasts the bound as still running, and goes on with the decommission', async () => {
    // The silent host never acknowledges: the reaction's run waits for it longer than 6 s.
    await reactions('lrmute', 'lrleave2', 'echo never');
    const out = await terminate('lr-leave-2');

    expect(out.action.reactions).toMatchObject({ state: 'timedOut', runs: [{ status: 'running' }] });
    expect(out.result).toEqual({ result: 'CONTINUE', reason: 'decommission succeeded' });
    // The decommission started while the reaction's run was still going.
    const decommission = await runExecution(out.action.outcome!.runId!);
    const reaction = await runExecution(out.action.reactions!.runIds[0]!);
    expect(reaction.startDate!.getTime()).toBeLessThanOrEqual(decommission.startDate!.getTime());
    expect(reaction.stopDate?.getTime() ?? Infinity).toBeGreaterThan(decommission.startDate!.getTime());
  }, 90_000);

  it('records reactions that cannot be read, and goes on with the decommission', async () => {
    const bad = { asg: 'reactions#lrbroken', sk: 'reactions' };
    await t.db.send(
      new PutCommand({ TableName: t.stack.file.lifecycleTable!, Item: { ...bad, group: 'lrbroken' } }),
    );
    try {
      const out = await terminate('lr-leave-3');
      expect(out.reactionsError?.Error).toBeDefined();
      expect(out.result).toEqual({ result: 'CONTINUE', reason: 'decommission succeeded' });
    } finally {
      await t.db.send(new DeleteCommand({ TableName: t.stack.file.lifecycleTable!, Key: bad }));
    }
  }, 90_000);
});
