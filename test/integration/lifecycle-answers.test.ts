/**
 * The lifecycle steps that talk to Auto Scaling and SQS, with the real SDK against the local Auto
 * Scaling emulator, dynalite and local-aws-sqs: a completion repeated (answered once, announced
 * once, the same outcome back), a heartbeat after completion, a completion Auto Scaling holds no
 * action for (recorded as `not-active`, not a failure), parameters AWS's model refuses, and an
 * inbox deleted twice.
 */
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  RecordLifecycleActionHeartbeatCommand,
  SetDesiredCapacityCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import { CreateQueueCommand, DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { createAutoScalingClient, putDroverHooks } from '#shared/autoscaling.ts';
import { createDynamoClient, createPlainDynamoClient, createSqsClient } from '#shared/aws.ts';
import { LocalAutoScaling } from '#local/autoscaling.ts';
import { createAutoScalingServer } from '#local/autoscaling-server.ts';
import { listen } from '#local/api-server.ts';
import { createStageResources, startDynalite, startSqs, type Closable } from '#local/emulators.ts';
import { completeAction, recordHeartbeat, type StepDeps } from '#functions/lifecycle/lifecycle-steps.ts';
import { LifecycleAnswers } from '#shared/stores/lifecycle-answers.ts';
import { deleteInbox } from '#functions/lifecycle/already-done.ts';
import type { LifecycleAction } from '#functions/lifecycle/lifecycle-action.ts';
import { LifecycleWaits } from '#shared/stores/lifecycle-waits.ts';
import { NodesStore } from '#shared/stores/nodes-store.ts';

const REGION = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let dynalite: Closable;
let sqsServer: Closable;
let asgServer: Server;
let autoscaling: LocalAutoScaling;
let asg: AutoScalingClient;
let db: DynamoDBDocumentClient;
let sqs: SQSClient;
let nodesTable: string;
let lifecycleTable: string;
let sqsEndpoint: string;
/** Lifecycle actions the emulator put on its bus, by instance id. */
const held = new Map<string, { token: string; hook: string }>();
let published: { type: string; detail: Record<string, unknown> }[] = [];
let warnings: string[] = [];

beforeAll(async () => {
  dynalite = await startDynalite();
  sqsServer = await startSqs({ region: REGION });
  sqsEndpoint = `http://127.0.0.1:${sqsServer.port}`;
  const endpoints = { dynamodb: `http://127.0.0.1:${dynalite.port}`, sqs: sqsEndpoint };
  db = createDynamoClient({ region: REGION, endpoints, credentials });
  sqs = createSqsClient({ region: REGION, endpoints, credentials });
  const plain = createPlainDynamoClient({ region: REGION, endpoints, credentials });
  ({ nodesTable, lifecycleTable } = await createStageResources('t', { dynamo: plain, sqs }));
  plain.destroy();
  autoscaling = new LocalAutoScaling({
    start: () => {},
    stop: () => {},
    publish: (entry) => {
      const d = JSON.parse(entry.Detail) as Record<string, string>;
      if (d.LifecycleActionToken)
        held.set(d.EC2InstanceId!, { token: d.LifecycleActionToken, hook: d.LifecycleHookName! });
    },
  });
  autoscaling.createGroup('web');
  asgServer = createAutoScalingServer(autoscaling);
  const port = await listen(asgServer);
  asg = createAutoScalingClient({ region: REGION, endpoint: `http://127.0.0.1:${port}`, credentials });
  await putDroverHooks(asg, 't', 'web');
}, 30_000);

afterAll(async () => {
  asg?.destroy();
  db?.destroy();
  sqs?.destroy();
  autoscaling?.stop();
  asgServer?.closeAllConnections();
  await new Promise((r) => (asgServer ? asgServer.close(() => r(undefined)) : r(undefined)));
  await sqsServer?.close();
  await dynalite?.close();
});

beforeEach(() => {
  published = [];
  warnings = [];
});

function deps(): StepDeps {
  return {
    autoscaling: asg,
    sfn: {} as SFNClient,
    sqs,
    waits: new LifecycleWaits(db, lifecycleTable),
    answers: new LifecycleAnswers(db, lifecycleTable),
    membership: new NodesStore(db, nodesTable),
    nodes: async () => [],
    node: async () => undefined,
    inboxUrl: (nodeId) => `${sqsEndpoint}/000000000000/drover-t-node-${nodeId}`,
    events: { publish: async (type, detail) => void published.push({ type, detail }) },
    runStateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:drover-t-run',
    now: () => Date.now(),
    log: { info: () => {}, warn: (message) => void warnings.push(message) },
  };
}

/** Launches one instance into the group; returns the action drover's flow would carry for it. */
async function launched(outcome?: LifecycleAction['outcome']): Promise<LifecycleAction> {
  const before = new Set(held.keys());
  const live = (await instances()).length;
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: live + 1 }));
  const id = [...held.keys()].find((k) => !before.has(k))!;
  return {
    kind: 'launch',
    asg: 'web',
    instanceId: id,
    hookName: held.get(id)!.hook,
    token: held.get(id)!.token,
    command: 'provision',
    runId: `run-${id}`,
    deadline: Date.now() + 600_000,
    sliceSec: 120,
    outcome: outcome ?? { result: 'CONTINUE', reason: 'bootstrap succeeded', runId: `run-${id}` },
  };
}

const instances = async () =>
  (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web'] })))
    .AutoScalingGroups![0]!.Instances ?? [];
const stateOf = async (id: string) => (await instances()).find((i) => i.InstanceId === id)?.LifecycleState;

describe('completing a lifecycle action', () => {
  it('answers once and announces once when the step runs twice, returning the same outcome', async () => {
    const action = await launched();
    const first = await completeAction(action, deps());
    expect(first).toEqual({
      result: 'CONTINUE',
      reason: 'bootstrap succeeded',
      runId: action.runId,
      answered: 'completed',
    });
    expect(await stateOf(action.instanceId)).toBe('InService');
    // The step again (a Lambda retry after its answer applied, a redelivery): nothing new happens.
    const again = await completeAction(action, deps());
    expect(again).toEqual(first);
    expect(published.map((e) => e.type)).toEqual(['Bootstrap Succeeded']);
    expect(published[0]!.detail).toMatchObject({ result: 'CONTINUE', answered: 'completed' });
    expect(warnings).toEqual([]);
  });

  it('answers the earlier outcome when a repeat carries another (a redelivered step of an older state)', async () => {
    const action = await launched({ result: 'ABANDON', reason: 'bootstrap failed (exit 3)' });
    await completeAction(action, deps());
    const again = await completeAction(
      { ...action, outcome: { result: 'CONTINUE', reason: 'bootstrap succeeded' } },
      deps(),
    );
    expect(again).toMatchObject({ result: 'ABANDON', reason: 'bootstrap failed (exit 3)' });
    expect(published.map((e) => e.type)).toEqual(['Bootstrap Failed']);
  });

  it('records an action Auto Scaling no longer holds as not-active, and announces it, without failing', async () => {
    const action = await launched();
    // An operator (or the hook's timeout) ended it before drover answered.
    await asg.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: 'web',
        LifecycleHookName: action.hookName,
        LifecycleActionToken: action.token,
        LifecycleActionResult: 'ABANDON',
      }),
    );
    const outcome = await completeAction(action, deps());
    expect(outcome).toMatchObject({ result: 'CONTINUE', answered: 'not-active' });
    expect(published).toEqual([
      expect.objectContaining({
        type: 'Bootstrap Succeeded',
        detail: expect.objectContaining({ answered: 'not-active' }),
      }),
    ]);
    expect(warnings).toEqual(['lifecycle action already ended']);
    // And once only, the second time from the record.
    expect(await completeAction(action, deps())).toEqual(outcome);
    expect(published).toHaveLength(1);
  });

  it('announces a repeat whose first run answered but stopped before announcing', async () => {
    const action = await launched();
    // The first run recorded its answer and died (no settle): the repeat finishes its work.
    await new LifecycleAnswers(db, lifecycleTable).record('web', action.token, action.outcome!, Date.now());
    const outcome = await completeAction(action, deps());
    expect(outcome).toMatchObject({ result: 'CONTINUE', answered: 'completed' });
    expect(published.map((e) => e.type)).toEqual(['Bootstrap Succeeded']);
    await completeAction(action, deps());
    expect(published).toHaveLength(1);
  });

  it('retires a terminating host once: inbox deleted (gone the second time), node marked once', async () => {
    const nodeId = `i-${randomUUID().slice(0, 8)}`;
    const inbox = await sqs.send(new CreateQueueCommand({ QueueName: `drover-t-node-${nodeId}` }));
    expect(inbox.QueueUrl).toBeDefined();
    await db.send(
      new PutCommand({
        TableName: nodesTable,
        Item: { nodeId, identity: nodeId, lastSeen: Date.now(), heartbeatSec: 60, status: 'active' },
      }),
    );
    const action: LifecycleAction = {
      kind: 'terminate',
      asg: 'web',
      instanceId: nodeId,
      hookName: 'drover-t-terminate',
      token: randomUUID(),
      deadline: Date.now() + 60_000,
      sliceSec: 60,
      outcome: { result: 'CONTINUE', reason: 'no decommission command for group web' },
    };
    await completeAction(action, deps());
    await completeAction(action, deps());
    expect(published.map((e) => e.type)).toEqual(['Node Terminated']);
  });
});

describe('claiming a lifecycle action', () => {
  it('holds it for the first execution, gives it back to that one, refuses another', async () => {
    const answers = new LifecycleAnswers(db, lifecycleTable);
    const token = randomUUID();
    expect(await answers.claim('web', token, 'exec-1', 'RUN1', 1_000)).toEqual({
      mine: true,
      runId: 'RUN1',
      at: 1_000,
      announced: false,
    });
    await answers.claimAnnounced('web', token);
    // Its Prepare again, with a new run id and clock: the first claim stands.
    expect(await answers.claim('web', token, 'exec-1', 'RUN2', 9_000)).toEqual({
      mine: true,
      runId: 'RUN1',
      at: 1_000,
      announced: true,
    });
    expect(await answers.claim('web', token, 'exec-2', 'RUN3', 9_000)).toEqual({ mine: false });
    // Another action (token) of the same group is free.
    expect(await answers.claim('web', randomUUID(), 'exec-2', 'RUN4', 9_000)).toMatchObject({ mine: true });
  });
});

describe('lifecycle heartbeats', () => {
  it('keeps a held action waiting, and stops waiting once the action has ended', async () => {
    const action = await launched();
    expect(await recordHeartbeat(action, deps())).toEqual({ expired: false });
    await completeAction(action, deps());
    // AWS answers ValidationError "No active Lifecycle Action found with token …": nothing to wait for.
    await expect(
      asg.send(
        new RecordLifecycleActionHeartbeatCommand({
          AutoScalingGroupName: 'web',
          LifecycleHookName: action.hookName,
          LifecycleActionToken: action.token,
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: `No active Lifecycle Action found with token ${action.token}`,
    });
    expect(await recordHeartbeat(action, deps())).toEqual({ expired: true });
    expect(warnings).toEqual(['lifecycle action no longer active: waiting stops']);
  });
});

describe('the local Auto Scaling refuses what AWS refuses', () => {
  const complete = (input: { token?: string; instance?: string; hook?: string; group?: string }) =>
    asg.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: input.group ?? 'web',
        LifecycleHookName: input.hook ?? 'drover-t-launch',
        LifecycleActionResult: 'CONTINUE',
        LifecycleActionToken: input.token,
        InstanceId: input.instance,
      }),
    );

  it('a second completion, by token or by instance id, with no active action', async () => {
    const action = await launched();
    await complete({ instance: action.instanceId });
    await expect(complete({ token: action.token })).rejects.toMatchObject({
      name: 'ValidationError',
      message: `No active Lifecycle Action found with token ${action.token}`,
    });
    await expect(complete({ instance: action.instanceId })).rejects.toMatchObject({
      name: 'ValidationError',
      message: `No active Lifecycle Action found with instance ID ${action.instanceId}`,
    });
  });

  it('an unknown token, instance or hook: no active action; an unknown group: not found', async () => {
    const action = await launched();
    const unknown = randomUUID();
    await expect(complete({ token: unknown })).rejects.toMatchObject({
      message: `No active Lifecycle Action found with token ${unknown}`,
    });
    await expect(complete({ instance: 'i-0123456789abcdef0' })).rejects.toMatchObject({
      message: 'No active Lifecycle Action found with instance ID i-0123456789abcdef0',
    });
    await expect(complete({ token: action.token, hook: 'drover-t-other' })).rejects.toMatchObject({
      message: `No active Lifecycle Action found with token ${action.token}`,
    });
    await expect(complete({ token: action.token, group: 'nope' })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('AutoScalingGroup nope not found'),
    });
    // Still held: none of these answered it.
    expect(await stateOf(action.instanceId)).toBe('Pending:Wait');
  });

  it('a token that is not 36 characters, an instance id over 19, a hook name AWS would not take', async () => {
    await expect(complete({ token: 'token-1' })).rejects.toMatchObject({
      name: 'ValidationError',
      message:
        "1 validation error detected: Value 'token-1' at 'lifecycleActionToken' failed to satisfy constraint: Member must have length greater than or equal to 36",
    });
    await expect(complete({ token: `${randomUUID()}x` })).rejects.toMatchObject({
      message: expect.stringContaining('Member must have length less than or equal to 36'),
    });
    await expect(complete({ instance: 'i-0123456789abcdef01' })).rejects.toMatchObject({
      message: expect.stringContaining("at 'instanceId' failed to satisfy constraint"),
    });
    await expect(complete({ token: randomUUID(), hook: 'bad name!' })).rejects.toMatchObject({
      message: expect.stringContaining("at 'lifecycleHookName' failed to satisfy constraint"),
    });
  });
});

describe('deleting an inbox', () => {
  it('deletes it, then answers gone (AWS: QueueDoesNotExist) the second time', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'drover-t-node-i-twice' }));
    expect(await deleteInbox(sqs, QueueUrl!)).toBe('deleted');
    await expect(sqs.send(new DeleteQueueCommand({ QueueUrl }))).rejects.toMatchObject({
      name: 'QueueDoesNotExist',
    });
    expect(await deleteInbox(sqs, QueueUrl!)).toBe('gone');
  });
});
