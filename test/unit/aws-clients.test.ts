import { execFileSync } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import {
  createDynamoClient,
  createEventBridgeClient,
  createKmsClient,
  createPlainDynamoClient,
  createSfnClient,
  createSqsClient,
} from '#shared/aws.ts';

const options = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  endpoints: { sqs: 'http://127.0.0.1:1', dynamodb: 'http://127.0.0.1:1', sfn: 'http://127.0.0.1:1' },
};

const clients = {
  sqs: () => createSqsClient(options),
  'dynamodb (document)': () => createDynamoClient(options),
  'dynamodb (plain)': () => createPlainDynamoClient(options),
  sfn: () => createSfnClient(options),
  kms: () => createKmsClient(options),
  eventbridge: () => createEventBridgeClient(options),
};

describe('AWS client factories', () => {
  it.each(Object.entries(clients))('%s: no SDK logger middleware copying every call', (_name, create) => {
    const client = create();
    try {
      const names = client.middlewareStack.identify();
      expect(names.length).toBeGreaterThan(5);
      expect(names.filter((n) => n.startsWith('loggerMiddleware'))).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it('caches the middleware stack of every client but the document client, which refuses it', () => {
    const made = Object.values(clients).map((create) => create());
    try {
      expect(made.map((c) => c.config.cacheMiddleware === true)).toEqual([
        true,
        false,
        true,
        true,
        true,
        true,
      ]);
    } finally {
      for (const c of made) c.destroy();
    }
  });

  it('gives every client a config with fast properties, which the SDK copies on every call', () => {
    // %HasFastProperties needs a V8 flag: asked of a child process built like the tests' own.
    const script = `
      import * as aws from '#shared/aws.ts';
      const fast = new Function('o', 'return %HasFastProperties(o)');
      const options = { region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
      const made = ['createSqsClient', 'createDynamoClient', 'createPlainDynamoClient', 'createSfnClient',
        'createKmsClient', 'createEventBridgeClient', 'createSchedulerClient'].map((f) => aws[f](options));
      console.log(JSON.stringify(made.map((c) => fast(c.config))));
      for (const c of made) c.destroy();`;
    const out = execFileSync(
      process.execPath,
      ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8', env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
    );
    expect(JSON.parse(out)).toEqual([true, true, true, true, true, true, true]);
  });

  it('still signs with its credentials and reads the answer through the copied config', async () => {
    let headers: IncomingHttpHeaders | undefined;
    const server = createServer((req, res) => {
      headers = req.headers;
      req.resume();
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      res.end(JSON.stringify({ QueueUrl: 'http://127.0.0.1/000000000000/q' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const sqs = createSqsClient({
      ...options,
      credentials: { accessKeyId: 'AKIDCOPY', secretAccessKey: 's' },
      endpoints: { sqs: endpoint },
    });
    try {
      const out = await sqs.send(new GetQueueUrlCommand({ QueueName: 'q' }));
      expect(out.QueueUrl).toBe('http://127.0.0.1/000000000000/q');
      expect(headers?.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDCOPY\/\d{8}\/us-east-1\/sqs\/aws4_request/,
      );
      expect(headers?.host).toBe(endpoint.slice('http://'.length));
    } finally {
      sqs.destroy();
      server.close();
    }
  });
});
