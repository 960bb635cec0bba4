/**
 * Dispatch signs one document per dispatch group, naming the group, so each agent echoes the
 * group its node is counted in (and no document mixes the hosts of two groups).
 */
import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { sendSigned, signingGroups } from '#functions/run/dispatch-batch.ts';
import { SIGNING_GROUP_SIZE } from '#functions/run/state.ts';
import type { InboxMessage, SignedRequest } from '#shared/messages.ts';
import type { RequestSigner } from '#shared/signing.ts';
import { nodeRunItem, runMetaItem } from '../helpers/factories.ts';

const node = (nodeId: string, group?: number) =>
  nodeRunItem({ nodeId, identity: nodeId, status: 'pending', ...(group !== undefined ? { group } : {}) });

describe('signingGroups', () => {
  it('keeps each group in its own documents, in order, at most SIGNING_GROUP_SIZE hosts each', () => {
    const big = Array.from({ length: SIGNING_GROUP_SIZE + 3 }, (_, i) => node(`b-${i}`, 1));
    const docs = signingGroups([node('a-1', 0), ...big, node('a-2', 0)]);

    expect(docs.map((d) => d.length)).toEqual([2, SIGNING_GROUP_SIZE, 3]);
    expect(docs[0]!.map((n) => n.nodeId)).toEqual(['a-1', 'a-2']);
    expect(docs.every((d) => d.every((n) => n.group === d[0]!.group))).toBe(true);
  });
});

describe('sendSigned', () => {
  it("names each target's group in the document it receives", async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
    const signed: string[] = [];
    const signer: RequestSigner = {
      keyId: 'file:test',
      sign: (document) => {
        signed.push(document);
        return Promise.resolve({ keyId: 'file:test', alg: 'ECDSA_SHA_256', value: 'c2ln' });
      },
    };
    const targets = [node('w-1', 0), node('w-2', 3), node('w-3', 0), node('legacy')];

    await sendSigned(runMetaItem({ status: 'running' }), 2, targets, Date.now(), 'exec', {
      sqs: new SQSClient({ region: 'us-east-1' }),
      signer,
      inboxUrl: (id) => `http://127.0.0.1:1/000000000000/drover-test-node-${id}`,
    });

    expect(signed).toHaveLength(3);
    const groupOf = new Map(
      sqs.commandCalls(SendMessageCommand).map((call) => {
        const message = JSON.parse(call.args[0].input.MessageBody!) as InboxMessage;
        return [message.nodeId, (JSON.parse(message.request) as SignedRequest).group] as const;
      }),
    );
    expect(Object.fromEntries(groupOf)).toEqual({ 'w-1': 0, 'w-2': 3, 'w-3': 0, legacy: undefined });
    sqs.restore();
  });
});
