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
});
