/**
 * The agent's SQS client sends one User-Agent worked out at start, in place of the SDK's
 * per-call one: the same sections the SDK sends (minus its per-call features list), drover's own,
 * on every call, set before the request is signed.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DeleteMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createSqsClient } from '#shared/aws.ts';
import { formatSection, useStaticUserAgent, userAgentHeaders } from '#agent/setup/user-agent.ts';

describe('formatSection', () => {
  it('writes sections as the SDK does', () => {
    expect(formatSection(['aws-sdk-js', '3.1169.0'])).toBe('aws-sdk-js/3.1169.0');
    expect(formatSection(['lang/js'])).toBe('lang/js');
    expect(formatSection(['md/nodejs', '20.20.2'])).toBe('md/nodejs#20.20.2');
    expect(formatSection(['api/SQS', '3.1169.0'])).toBe('api/sqs#3.1169.0');
    expect(formatSection(['os/linux', '6.1 (x86) [a]'])).toBe('os/linux#6.1--x86---a-');
  });

  it('puts the SDK and drover in x-amz-user-agent, everything in user-agent', () => {
    const headers = userAgentHeaders([['aws-sdk-js', '3.1'], ['ua', '2.1'], ['lang/js']], '0.1.0');
    expect(headers).toEqual({
      'user-agent': 'aws-sdk-js/3.1 ua/2.1 lang/js drover-agent/0.1.0',
      'x-amz-user-agent': 'aws-sdk-js/3.1 drover-agent/0.1.0',
    });
  });
});

describe('useStaticUserAgent', () => {
  let server: Server | undefined;
  let client: SQSClient | undefined;

  afterEach(async () => {
    client?.destroy();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

  it('sends its headers on every call, the same each time, with the SDK still signing the request', async () => {
    // Arrange: an endpoint on loopback that records what it is sent and answers DeleteMessage.
    const seen: IncomingHttpHeaders[] = [];
    server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume().on('end', () => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = createSqsClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      endpoints: { sqs: endpoint },
      maxAttempts: 1,
    });

    // Act
    const headers = await useStaticUserAgent(client, '9.8.7');
    for (let i = 0; i < 2; i++)
      await client.send(
        new DeleteMessageCommand({ QueueUrl: `${endpoint}/000000000000/q`, ReceiptHandle: 'r' }),
      );

    // Assess
    expect(headers['user-agent']).toMatch(
      /^aws-sdk-js\/\S+ .*md\/nodejs#\S+ api\/sqs#\S+ drover-agent\/9\.8\.7$/,
    );
    expect(headers['x-amz-user-agent']).toMatch(/^aws-sdk-js\/\S+ drover-agent\/9\.8\.7$/);
    expect(seen).toHaveLength(2);
    for (const h of seen) {
      expect(h['user-agent']).toBe(headers['user-agent']);
      expect(h['x-amz-user-agent']).toBe(headers['x-amz-user-agent']);
      expect(h.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=test\//);
    }
    // The SDK's own middleware is gone (its per-call features section, `m/…`, with it).
    expect(client.middlewareStack.identify().join(' ')).not.toContain('getUserAgentMiddleware');
    expect(seen[0]!['user-agent']).not.toMatch(/ m\//);
  });
});
