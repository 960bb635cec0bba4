/**
 * Heartbeats rewrite a host's facts only when they changed: the fingerprint (shared/facts-hash.ts)
 * and the node registry's two writes (liveness first, the whole record when the hash differs).
 */
import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DynamoDBClient,
  ConditionalCheckFailedException,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { factsHash } from '#shared/facts-hash.ts';
import { NodeHeartbeats } from '#shared/stores/nodes-heartbeats.ts';
import { heartbeatReply } from '../helpers/factories.ts';

const NOW = 1_800_000_000_000;

describe('factsHash', () => {
  it('is the same whatever the order of the keys, at every level', () => {
    const a = factsHash({ role: 'web', os: { family: 'linux', release: '6.1' } }, ['nginx']);
    const b = factsHash({ os: { release: '6.1', family: 'linux' }, role: 'web' }, ['nginx']);
    expect(a).toBe(b);
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('changes with any value, key or class', () => {
    const base = factsHash({ role: 'web', n: 1 }, ['nginx']);
    expect(factsHash({ role: 'db', n: 1 }, ['nginx'])).not.toBe(base);
    expect(factsHash({ role: 'web', n: '1' }, ['nginx'])).not.toBe(base);
    expect(factsHash({ role: 'web', m: 1 }, ['nginx'])).not.toBe(base);
    expect(factsHash({ role: 'web', n: 1 }, ['nginx', 'php'])).not.toBe(base);
    expect(factsHash({ role: 'web', n: 1 }, [])).not.toBe(base);
  });

  it('tells facts from classes (a fact named like a class is not that class)', () => {
    expect(factsHash({ nginx: true }, [])).not.toBe(factsHash({}, ['nginx']));
  });
});

describe('NodeHeartbeats.recordHeartbeat', () => {
  const setup = () => {
    const ddb = mockClient(DynamoDBClient);
    const db = new DynamoDBClient({ region: 'us-east-1' });
    return { ddb, registry: new NodeHeartbeats(db, 'nodes') };
  };
  const conditionFailed = () =>
    new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
  const hb = heartbeatReply({ nodeId: 'web-1', facts: { role: 'web' }, classes: ['nginx'] });
  /** A write's values as plain JavaScript (the registry marshals them for the plain client). */
  const values = (input: { ExpressionAttributeValues?: Record<string, AttributeValue> }) =>
    unmarshall(input.ExpressionAttributeValues ?? {});

  it('sets only liveness when the stored hash is this heartbeat’s', async () => {
    const { ddb, registry } = setup();
    ddb.on(UpdateItemCommand).resolves({ Attributes: marshall({ joinedAt: 1, status: 'active' }) });

    expect(await registry.recordHeartbeat(hb, NOW)).toBe('seen');

    const calls = ddb.commandCalls(UpdateItemCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.UpdateExpression).not.toMatch(/#facts =|#classes =/);
    expect(input.ExpressionAttributeValues).not.toHaveProperty(':facts');
    expect(input.ConditionExpression).toMatch(/^#factsHash = :hash AND /);
    expect(values(input)[':hash']).toBe(factsHash(hb.facts, hb.classes));
  });

  it('writes the whole record, facts and hash, when the hash differs or the node is new', async () => {
    const { ddb, registry } = setup();
    ddb.on(UpdateItemCommand).rejectsOnce(conditionFailed()).resolves({});

    expect(await registry.recordHeartbeat(hb, NOW)).toBe('joined');

    const calls = ddb.commandCalls(UpdateItemCommand);
    expect(calls).toHaveLength(2);
    const full = calls[1]!.args[0].input;
    expect(full.UpdateExpression).toMatch(
      /#facts = :facts, #classes = :classes, #factsHash = :hash, #factsAt = :sent/,
    );
    expect(values(full)).toMatchObject({
      ':facts': hb.facts,
      ':classes': hb.classes,
      ':hash': factsHash(hb.facts, hb.classes),
    });
    expect(full.ConditionExpression).not.toMatch(/factsHash/);
    expect(full.ConditionExpression).toMatch(/#factsAt < :sent OR #factsAt > :now\)/);
  });

  it('keeps newer facts when an older heartbeat arrives late: liveness alone, no facts', async () => {
    const { ddb, registry } = setup();
    ddb
      .on(UpdateItemCommand)
      .rejectsOnce(conditionFailed())
      .rejectsOnce(conditionFailed())
      .resolves({ Attributes: marshall({ joinedAt: 1, status: 'active' }) });

    expect(await registry.recordHeartbeat(hb, NOW)).toBe('seen');

    const calls = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(3);
    expect(calls[1]!.ConditionExpression).toMatch(
      /^\(attribute_not_exists\(#factsAt\) OR #factsAt < :sent OR #factsAt > :now\) AND /,
    );
    expect(values(calls[1]!)).toMatchObject({ ':sent': hb.sentAt });
    expect(calls[2]!.UpdateExpression).not.toMatch(/#facts|#classes|#factsHash|#factsAt/);
    expect(calls[2]!.ConditionExpression).not.toMatch(/facts/);
  });

  it('ignores a heartbeat of a terminated node: every write refused', async () => {
    const { ddb, registry } = setup();
    ddb.on(UpdateItemCommand).rejects(conditionFailed());

    expect(await registry.recordHeartbeat(hb, NOW)).toBe('ignored');
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(3);
  });

  it('names in each write only the attributes and values its expressions use (DynamoDB refuses others)', async () => {
    const { ddb, registry } = setup();
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    await registry.recordHeartbeat(heartbeatReply({ facts: { role: 'web', asg: 'web' } }), NOW);

    for (const call of ddb.commandCalls(UpdateItemCommand)) {
      const { UpdateExpression, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues } =
        call.args[0].input;
      const text = `${UpdateExpression} ${ConditionExpression}`;
      const used = (token: string) => new RegExp(`${token}(?![A-Za-z0-9_])`).test(text);
      for (const name of Object.keys(ExpressionAttributeNames ?? {})) expect(used(name), name).toBe(true);
      for (const value of Object.keys(ExpressionAttributeValues ?? {})) expect(used(value), value).toBe(true);
    }
  });

  it('passes any other DynamoDB failure on, for the message to be retried', async () => {
    const { ddb, registry } = setup();
    ddb.on(UpdateItemCommand).rejects(new Error('ProvisionedThroughputExceededException'));

    await expect(registry.recordHeartbeat(hb, NOW)).rejects.toThrow('ProvisionedThroughputExceeded');
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(1);
  });
});
