/**
 * The SQS emulator alone (local-aws-sqs with drover's patch, no stack) on 127.0.0.1, and an SDK
 * client for it with dummy credentials: for tests of the emulator's own behaviour and of code
 * that only needs a queue.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';

export interface BareSqs {
  sqs: SQSClient;
  close(): Promise<void>;
}

export async function startBareSqs(client: Partial<SQSClientConfig> = {}): Promise<BareSqs> {
  const server: Server = await createSqsServer({
    port: 0,
    hostname: '127.0.0.1',
    emulateQueueCreationLifecycle: false,
  });
  const { port } = server.address() as AddressInfo;
  const sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    ...client,
  });
  return {
    sqs,
    async close() {
      sqs.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
