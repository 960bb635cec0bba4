import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createPlainDynamoClient } from '#shared/aws.ts';
import { NodeHeartbeats } from '#shared/stores/nodes-heartbeats.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { heartbeatReply } from '../helpers/factories.ts';

let t: TestStack;
let registry: NodeHeartbeats;
let plainDb: DynamoDBClient;
const get = async (nodeId: string) =>
  (await t.db.send(new GetCommand({ TableName: t.stack.file.nodesTable, Key: { nodeId } }))).Item;

beforeAll(async () => {
  t = await startTestStack();
  const f = t.stack.file;
  plainDb = createPlainDynamoClient({ region: f.region, endpoints: f.endpoints, credentials: f.credentials });
  registry = new NodeHeartbeats(plainDb, f.nodesTable);
});

afterAll(async () => {
  plainDb?.destroy();
  await t?.stop();
});

describe('node registry', () => {
  it('registers a node on its first heartbeat and keeps when it joined', async () => {
    const joined = await registry.recordHeartbeat(
      heartbeatReply({ nodeId: 'reg-1', identity: 'reg-1' }),
      1_000,
    );
    const again = await registry.recordHeartbeat(
      heartbeatReply({ nodeId: 'reg-1', identity: 'reg-1', facts: { role: 'db' } }),
      2_000,
    );

    expect([joined, again]).toEqual(['joined', 'seen']);
    expect(await get('reg-1')).toMatchObject({ joinedAt: 1_000, lastSeen: 2_000, facts: { role: 'db' } });
  });

  it('records the Auto Scaling group a host reports', async () => {
    await registry.recordHeartbeat(
      heartbeatReply({ nodeId: 'reg-2', facts: { role: 'web', asg: 'web-asg' } }),
      1_000,
    );

    expect((await get('reg-2'))?.asg).toBe('web-asg');
  });
});
