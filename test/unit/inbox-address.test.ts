/**
 * Inboxes are addressed by the control plane alone: one queue name per node id, and the URL
 * Dispatch sends to is derived from the stage, never taken from what a host said in a heartbeat.
 * The "attacker" endpoint below stands for any host a heartbeat could name: it must get nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSRecord } from 'aws-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { inboxQueueName, inboxQueueUrl } from '#shared/stage-config.ts';
import { sendSigned } from '#functions/run/dispatch-batch.ts';
import { ingestReplies } from '#functions/run/ingest-replies.ts';
import type { NodeHeartbeats } from '#shared/stores/nodes-heartbeats.ts';
import type { ReplyLedger } from '#functions/run/reply-ledger.ts';
import type { HeartbeatReply } from '#shared/messages.ts';
import type { RequestSigner } from '#shared/signing.ts';
import { heartbeatReply, nodeRunItem, runMetaItem } from '../helpers/factories.ts';

/** A loopback endpoint that answers SendMessage the way SQS does and records every request. */
async function fakeSqs(): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      requests.push(body);
      const sent = JSON.parse(body) as { MessageBody: string };
      const md5 = createHash('md5').update(sent.MessageBody).digest('hex');
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      res.end(JSON.stringify({ MessageId: `m-${requests.length}`, MD5OfMessageBody: md5 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, requests };
}

const signer: RequestSigner = {
  keyId: 'k',
  sign: async () => ({ keyId: 'k', alg: 'ECDSA_SHA_256', value: 'c2ln' }),
};
let real: Awaited<ReturnType<typeof fakeSqs>>;
let attacker: Awaited<ReturnType<typeof fakeSqs>>;

beforeEach(async () => {
  real = await fakeSqs();
  attacker = await fakeSqs();
});
afterEach(async () => {
  for (const { server } of [real, attacker]) await new Promise((r) => server.close(r));
});

describe('inbox queue names', () => {
  it('uses a plain node id as it is', () => {
    expect(inboxQueueName('prod', 'i-0123456789abcdef0')).toBe('drover-prod-node-i-0123456789abcdef0');
    expect(inboxQueueName('prod', 'web_1')).toBe('drover-prod-node-web_1');
  });

  it('gives web.1 and web_1 different queues', () => {
    expect(inboxQueueName('prod', 'web.1')).not.toBe(inboxQueueName('prod', 'web_1'));
    expect(inboxQueueName('prod', 'web.1')).toMatch(/^drover-prod-node-web_1-x[0-9a-f]{16}$/);
  });

  it('gives ids sharing their first 63 characters different queues, within 80 characters', () => {
    const common = 'a'.repeat(63);
    const a = inboxQueueName('production', `${common}-one`);
    const b = inboxQueueName('production', `${common}-two`);
    expect(a).not.toBe(b);
    for (const name of [a, b]) expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });

  it('cannot be made to collide by choosing an id that looks like an escaped one', () => {
    const escaped = inboxQueueName('prod', 'web.1');
    const chosen = escaped.slice('drover-prod-node-'.length);
    expect(inboxQueueName('prod', chosen)).not.toBe(escaped);
  });

  it('derives the URL from the replies queue URL: same endpoint and account', () => {
    expect(
      inboxQueueUrl('https://sqs.eu-west-1.amazonaws.com/123456789012/drover-prod-replies', 'prod', 'i-0abc'),
    ).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/drover-prod-node-i-0abc');
  });

  it('gives the URL that setting the last path segment gives, for any node id and replies URL', () => {
    // The URL is parsed once per replies queue; this is the derivation it stands for.
    const bySegment = (replies: string, nodeId: string) => {
      const url = new URL(replies);
      const path = url.pathname.split('/');
      path[path.length - 1] = inboxQueueName('test', nodeId);
      url.pathname = path.join('/');
      return url.toString();
    };
    const replies = [
      'https://sqs.eu-west-1.amazonaws.com/123456789012/drover-test-replies',
      'http://127.0.0.1:4566/000000000000/drover-test-replies',
      'http://LOCALHOST:80/queue/drover-test-replies?x=1#f',
      'https://sqs.us-east-1.amazonaws.com/123456789012/drover-inbox-name-mark',
      'https://sqs.us-east-1.amazonaws.com/drover-inbox-name-mark/q?drover-inbox-name-mark',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...replies), fc.string({ minLength: 1, maxLength: 90 }), (url, nodeId) => {
        expect(inboxQueueUrl(url, 'test', nodeId)).toBe(bySegment(url, nodeId));
      }),
    );
  });
});

describe('Dispatch addresses inboxes itself', () => {
  it('sends to the derived inbox, never to the URL on the node record', async () => {
    const repliesUrl = `${real.url}/000000000000/drover-test-replies`;
    const targets = ['web-1', 'web-2'].map((nodeId) =>
      nodeRunItem({ nodeId, status: 'pending', inbox: `${attacker.url}/000000000000/steal-${nodeId}` }),
    );

    const unreachable = await sendSigned(runMetaItem({ status: 'running' }), 0, targets, Date.now(), 'exec', {
      sqs: new SQSClient({
        region: 'us-east-1',
        endpoint: real.url,
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      }),
      signer,
      inboxUrl: (nodeId) => inboxQueueUrl(repliesUrl, 'test', nodeId),
    });

    expect(unreachable).toEqual([]);
    expect(attacker.requests).toHaveLength(0);
    expect(real.requests.map((r) => (JSON.parse(r) as { QueueUrl: string }).QueueUrl)).toEqual([
      `${real.url}/000000000000/drover-test-node-web-1`,
      `${real.url}/000000000000/drover-test-node-web-2`,
    ]);
  });
});

describe('ingest and the inbox a heartbeat names', () => {
  const repliesUrl = 'https://sqs.us-east-1.amazonaws.com/000000000000/drover-test-replies';
  const record = (hb: HeartbeatReply): SQSRecord =>
    ({
      messageId: `m-${hb.nodeId}`,
      body: JSON.stringify(hb),
      attributes: { SenderId: 'AIDAEXAMPLE' },
    }) as unknown as SQSRecord;

  async function ingest(hb: HeartbeatReply) {
    const recorded: HeartbeatReply[] = [];
    const warnings: string[] = [];
    const out = await ingestReplies([record(hb)], {
      ledger: {} as ReplyLedger,
      registry: {
        recordHeartbeat: async (h: HeartbeatReply) => (recorded.push(h), false),
      } as unknown as NodeHeartbeats,
      now: () => 1,
      log: { info: () => {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
      verifySender: true,
      senderBindings: { roles: [], senders: { AIDAEXAMPLE: ['*'] } },
      inboxUrl: (nodeId) => inboxQueueUrl(repliesUrl, 'test', nodeId),
    });
    return { recorded, warnings, out };
  }

  it('refuses a heartbeat naming another inbox, and does not retry it', async () => {
    const { recorded, warnings, out } = await ingest(
      heartbeatReply({ nodeId: 'web-1', inbox: `${attacker.url}/000000000000/drover-test-node-web-2` }),
    );
    expect(recorded).toEqual([]);
    expect(warnings).toEqual([expect.stringContaining('heartbeat refused')]);
    expect(out.batchItemFailures).toEqual([]);
  });

  it('records the derived inbox for a heartbeat naming its own (whatever SQS host it used)', async () => {
    const { recorded } = await ingest(
      heartbeatReply({
        nodeId: 'web.1',
        inbox: `https://sqs.us-east-1.amazonaws.com/000000000000/${inboxQueueName('test', 'web.1')}`,
      }),
    );
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.inbox).toBe(inboxQueueUrl(repliesUrl, 'test', 'web.1'));
  });
});
