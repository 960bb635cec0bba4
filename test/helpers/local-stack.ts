/**
 * Starts the real local stack for a test file, in a temporary home, and tears it down afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '#local/stack.ts';
import { createDynamoClient, createSfnClient, createSqsClient } from '#shared/aws.ts';
import { createAutoScalingClient } from '#shared/autoscaling.ts';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SQSClient } from '@aws-sdk/client-sqs';

export interface TestStack {
  home: string;
  stack: LocalStack;
  db: DynamoDBDocumentClient;
  sfn: SFNClient;
  sqs: SQSClient;
  /** The local Auto Scaling (query protocol), as the lifecycle tests drive it. */
  autoscaling: AutoScalingClient;
  stop(): Promise<void>;
}

export async function startTestStack(stackOptions: Partial<LocalStackOptions> = {}): Promise<TestStack> {
  const home = mkdtempSync(join(tmpdir(), 'drover-test-'));
  const errors: unknown[] = [];
  let stack: LocalStack;
  try {
    stack = await startLocalStack({ ...stackOptions, home, onError: (e) => errors.push(e) });
  } catch (error: unknown) {
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
  const clientOptions = {
    region: stack.file.region,
    endpoints: stack.file.endpoints,
    credentials: stack.file.credentials,
  };
  const db = createDynamoClient(clientOptions);
  const sfn = createSfnClient(clientOptions);
  const sqs = createSqsClient(clientOptions);
  const autoscaling = createAutoScalingClient({
    region: stack.file.region,
    endpoint: stack.file.endpoints.autoscaling,
    credentials: stack.file.credentials,
  });
  return {
    home,
    stack,
    db,
    sfn,
    sqs,
    autoscaling,
    async stop() {
      db.destroy();
      sfn.destroy();
      sqs.destroy();
      autoscaling.destroy();
      await stack.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
