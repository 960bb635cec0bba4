/**
 * Node membership on the real local stack: heartbeats through the replies queue and ingest, the
 * reaper on its timer, EC2 state changes through the bus rule, every change in the event log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  CreateQueueCommand,
  GetQueueUrlCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createSqsClient } from '#shared/aws.ts';
import { localAgentKey } from '#shared/local-principals.ts';
import { inboxQueueUrl } from '#shared/stage-config.ts';
import { factsHash } from '#shared/facts-hash.ts';
import { EventLog, type LoggedEvent } from '#shared/event-log.ts';
import type { HeartbeatReply } from '#shared/messages.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { heartbeatReply } from '../helpers/factories.ts';

let t: TestStack;
let log: EventLog;

beforeAll(async () => {
  t = await startTestStack({ reaperIntervalMs: 200 });
  log = new EventLog(t.db, t.stack.file.eventsTable!);
});
afterAll(async () => {
  for (const client of senders.values()) client.destroy();
  await t?.stop();
});

/** One SQS client per node, signing as that node's agent: ingest refuses a reply its sender may not send. */
const senders = new Map<string, SQSClient>();
function sqsAs(nodeId: string): SQSClient {
  let client = senders.get(nodeId);
  if (!client) {
    client = createSqsClient({
      region: t.stack.file.region,
      endpoints: t.stack.file.endpoints,
      credentials: { accessKeyId: localAgentKey([nodeId]), secretAccessKey: 'local' },
    });
    senders.set(nodeId, client);
  }
  return client;
}

const node = async (nodeId: string) =>
  (await t.db.send(new GetCommand({ TableName: t.stack.file.nodesTable, Key: { nodeId } }))).Item;

async function heartbeat(overrides: Partial<HeartbeatReply> & { nodeId: string }): Promise<void> {
  await sqsAs(overrides.nodeId).send(
    new SendMessageCommand({
      QueueUrl: t.stack.file.repliesQueueUrl,
      MessageBody: JSON.stringify(
        heartbeatReply({
          heartbeatSec: 1,
          sentAt: Date.now(),
          // The node's own inbox: ingest refuses a heartbeat naming any other.
          inbox: inboxQueueUrl(t.stack.file.repliesQueueUrl, t.stack.file.stage, overrides.nodeId),
          ...overrides,
        }),
      ),
    }),
  );
}

/** Events about `nodeId` in the log, oldest first. */
async function eventsOf(nodeId: string): Promise<LoggedEvent[]> {
  return (await log.between(Date.now() - 3_600_000, Date.now() + 60_000)).filter((e) => e.nodeId === nodeId);
}

const typesOf = async (nodeId: string) => (await eventsOf(nodeId)).map((e) => e.type);

function ec2StateChange(instanceId: string, state: string, time = new Date()): void {
  t.stack.bus.put({
    Source: 'aws.ec2',
    DetailType: 'EC2 Instance State-change Notification',
    Detail: JSON.stringify({ 'instance-id': instanceId, state }),
    EventBusName: 'default',
    Time: time,
  });
}

describe('node membership', () => {
  it('logs a Node Joined on the first heartbeat only', async () => {
    await heartbeat({ nodeId: 'm-join', identity: 'm-join', heartbeatSec: 60 });
    await heartbeat({ nodeId: 'm-join', identity: 'm-join', heartbeatSec: 60 });
    await eventually(async () => ((await typesOf('m-join')).length > 0 ? true : undefined));
    await eventually(async () => ((await node('m-join'))?.lastSeen ? true : undefined));
    // Both heartbeats are in once the second one moved nothing; give ingest a moment more.
    await new Promise((r) => setTimeout(r, 500));
    expect(await typesOf('m-join')).toEqual(['Node Joined']);
    expect(await node('m-join')).toMatchObject({ status: 'active' });
  });

  it('rewrites facts only when they changed: an unchanged heartbeat moves lastSeen alone', async () => {
    await heartbeat({ nodeId: 'm-facts', identity: 'm-facts', heartbeatSec: 60, facts: { role: 'web' } });
    const first = await eventually(async () => await node('m-facts'));
    expect(first?.factsHash).toBe(factsHash({ role: 'web' }, ['nginx']));
    // Mark the stored facts: a heartbeat that rewrote them would erase the mark.
    await t.db.send(
      new UpdateCommand({
        TableName: t.stack.file.nodesTable,
        Key: { nodeId: 'm-facts' },
        UpdateExpression: 'SET facts = :marked',
        ExpressionAttributeValues: { ':marked': { role: 'web', marked: true } },
      }),
    );

    await heartbeat({ nodeId: 'm-facts', identity: 'm-facts', heartbeatSec: 60, facts: { role: 'web' } });
    const seen = await eventually(async () => {
      const item = await node('m-facts');
      return Number(item?.lastSeen) > Number(first?.lastSeen) ? item : undefined;
    });
    expect(seen?.facts).toEqual({ role: 'web', marked: true });

    await heartbeat({ nodeId: 'm-facts', identity: 'm-facts', heartbeatSec: 60, facts: { role: 'db' } });
    const changed = await eventually(async () => {
      const item = await node('m-facts');
      return item?.facts?.role === 'db' ? item : undefined;
    });
    expect(changed?.facts).toEqual({ role: 'db' });
    expect(changed?.factsHash).toBe(factsHash({ role: 'db' }, ['nginx']));

    // Sent before the last one, delivered after it: alive, but its old facts do not come back.
    await heartbeat({
      nodeId: 'm-facts',
      identity: 'm-facts',
      heartbeatSec: 60,
      facts: { role: 'old' },
      sentAt: Number(changed?.factsAt) - 60_000,
    });
    const late = await eventually(async () => {
      const item = await node('m-facts');
      return Number(item?.lastSeen) > Number(changed?.lastSeen) ? item : undefined;
    });
    expect(late?.facts).toEqual({ role: 'db' });
    expect(late?.factsHash).toBe(changed?.factsHash);

    // An agent clock a day fast, then set right: its facts still change.
    await heartbeat({
      nodeId: 'm-facts',
      identity: 'm-facts',
      heartbeatSec: 60,
      facts: { role: 'fast' },
      sentAt: Date.now() + 86_400_000,
    });
    await eventually(async () => ((await node('m-facts'))?.facts?.role === 'fast' ? true : undefined));
    await heartbeat({
      nodeId: 'm-facts',
      identity: 'm-facts',
      heartbeatSec: 60,
      facts: { role: 'set-right' },
    });
    await eventually(async () => ((await node('m-facts'))?.facts?.role === 'set-right' ? true : undefined));
  });

  it('marks a silent node lost after the missed heartbeats, once, and back when it heartbeats', async () => {
    await heartbeat({ nodeId: 'm-lost', identity: 'm-lost', heartbeatSec: 1 });
    const lost = await eventually(
      async () => ((await node('m-lost'))?.status === 'lost' ? await node('m-lost') : undefined),
      20_000,
      'the reaper to mark m-lost lost',
    );
    expect(lost?.statusReason).toBe('missed 3 heartbeats (1 s each)');
    expect(Date.now() - Number(lost?.lastSeen)).toBeGreaterThan(3_000);

    await heartbeat({ nodeId: 'm-lost', identity: 'm-lost', heartbeatSec: 60 });
    await eventually(async () => ((await node('m-lost'))?.status === 'active' ? true : undefined));
    await eventually(async () => ((await typesOf('m-lost')).includes('Node Returned') ? true : undefined));
    expect(await typesOf('m-lost')).toEqual(['Node Joined', 'Node Lost', 'Node Returned']);
  });

  it('does not mark lost a node whose heartbeat landed after the reaper read it', async () => {
    await heartbeat({ nodeId: 'm-race', identity: 'm-race', heartbeatSec: 60 });
    await eventually(async () => ((await node('m-race'))?.status === 'active' ? true : undefined));
    const { NodesStore } = await import('#shared/stores/nodes-store.ts');
    const membership = new NodesStore(t.db, t.stack.file.nodesTable);
    const stale = (await membership.members()).find((m) => m.nodeId === 'm-race')!;
    await t.db.send(
      new UpdateCommand({
        TableName: t.stack.file.nodesTable,
        Key: { nodeId: 'm-race' },
        UpdateExpression: 'SET lastSeen = :later',
        ExpressionAttributeValues: { ':later': stale.lastSeen + 1 },
      }),
    );
    expect(await membership.markLost(stale, Date.now(), 'test')).toBe(false);
    expect((await node('m-race'))?.status).toBe('active');
  });

  it('marks a terminated instance at once, once, deletes its inbox and never brings it back', async () => {
    const { QueueUrl } = await t.sqs.send(new CreateQueueCommand({ QueueName: 'drover-local-node-i-0aaa1' }));
    expect(QueueUrl).toBe(inboxQueueUrl(t.stack.file.repliesQueueUrl, t.stack.file.stage, 'i-0aaa1'));
    await heartbeat({ nodeId: 'i-0aaa1', identity: 'term-1', heartbeatSec: 60 });
    await eventually(async () => ((await node('i-0aaa1'))?.status === 'active' ? true : undefined));

    ec2StateChange('i-0aaa1', 'terminated');
    ec2StateChange('i-0aaa1', 'terminated'); // EventBridge delivers at least once.
    await eventually(async () => ((await node('i-0aaa1'))?.status === 'terminated' ? true : undefined));
    await heartbeat({ nodeId: 'i-0aaa1', identity: 'term-1', heartbeatSec: 60, sentAt: Date.now() + 5_000 });
    await new Promise((r) => setTimeout(r, 1_000));

    expect((await node('i-0aaa1'))?.status).toBe('terminated');
    expect(await typesOf('i-0aaa1')).toEqual(['Node Joined', 'Node Terminated']);
    // Its inbox is gone: a terminated instance never reads it again.
    await expect(
      t.sqs.send(new GetQueueUrlCommand({ QueueName: 'drover-local-node-i-0aaa1' })),
    ).rejects.toThrow();
  });

  it('ignores a heartbeat sent before a stop, and returns the node on one sent after', async () => {
    await heartbeat({ nodeId: 'i-0bbb2', identity: 'stop-1', heartbeatSec: 60 });
    await eventually(async () => ((await node('i-0bbb2'))?.status === 'active' ? true : undefined));

    const stoppedAt = Date.now();
    ec2StateChange('i-0bbb2', 'stopped', new Date(stoppedAt));
    await eventually(async () => ((await node('i-0bbb2'))?.status === 'stopped' ? true : undefined));
    // Sent before the instance stopped, delivered after: it must not resurrect the node.
    await heartbeat({ nodeId: 'i-0bbb2', identity: 'stop-1', heartbeatSec: 60, sentAt: stoppedAt - 1_000 });
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await node('i-0bbb2'))?.status).toBe('stopped');

    await heartbeat({ nodeId: 'i-0bbb2', identity: 'stop-1', heartbeatSec: 60, sentAt: Date.now() });
    await eventually(async () => ((await node('i-0bbb2'))?.status === 'active' ? true : undefined));
    await eventually(async () => ((await typesOf('i-0bbb2')).length === 3 ? true : undefined));
    expect(await typesOf('i-0bbb2')).toEqual(['Node Joined', 'Node Stopped', 'Node Returned']);
  });

  it('leaves instances that are not nodes of the stage alone, and ignores other states', async () => {
    ec2StateChange('i-0notours', 'terminated');
    await heartbeat({ nodeId: 'i-0ccc3', identity: 'run-1', heartbeatSec: 60 });
    await eventually(async () => ((await node('i-0ccc3'))?.status === 'active' ? true : undefined));
    ec2StateChange('i-0ccc3', 'running');
    await new Promise((r) => setTimeout(r, 500));

    expect(await node('i-0notours')).toBeUndefined();
    expect((await node('i-0ccc3'))?.status).toBe('active');
  });
});
