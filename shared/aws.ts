/**
 * AWS clients, built in one place. The SDK already honours `AWS_ENDPOINT_URL_SQS`,
 * `AWS_ENDPOINT_URL_DYNAMODB` and `AWS_ENDPOINT_URL_SFN`; local mode sets those (or passes
 * `endpoints`) so the same calls reach the loopback emulators.
 */
import { Agent as HttpsAgent } from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { KMSClient } from '@aws-sdk/client-kms';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { InProcessAwareAgent } from '#shared/in-process-connections.ts';

export interface AwsEndpoints {
  sqs?: string;
  dynamodb?: string;
  sfn?: string;
  kms?: string;
  events?: string;
  scheduler?: string;
}

export interface AwsClientOptions {
  region?: string;
  endpoints?: AwsEndpoints;
  /** Explicit credentials (local mode uses dummy ones); otherwise the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Concurrent sockets per client; long polls each hold one. */
  maxSockets?: number;
  maxAttempts?: number;
}

function baseConfig(options: AwsClientOptions, endpoint: string | undefined) {
  const maxSockets = options.maxSockets ?? 256;
  return {
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: new NodeHttpHandler({
      // TCP, or no socket to an emulator of this process (the local stack's; in-process-connections.ts).
      httpAgent: new InProcessAwareAgent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
      connectionTimeout: 3_000,
    }),
  };
}

/**
 * `cacheMiddleware` resolves each command's middleware stack once instead of on every call: about
 * a third of the SDK's CPU per call. Safe because nothing adds middleware after the first call;
 * the DynamoDB document client does not support it (its marshalling is per command).
 */
const CACHED = { cacheMiddleware: true } as const;

/**
 * The SDK's logger middleware copies every input and output (redacting sensitive members) to hand
 * them to the logger, even to the no-op one it uses when none is configured. drover configures
 * none, so the copies only cost CPU: about 0.05 ms a call. Taken out of every client built here.
 */
function withoutSdkLogging<C extends { middlewareStack: { remove(name: string): boolean } }>(client: C): C {
  client.middlewareStack.remove('loggerMiddleware');
  return withFastConfig(client);
}

/**
 * The SDK builds a client's config by adding ~46 properties one at a time, which leaves the
 * object in V8's dictionary mode, and its endpoint and deserialisation middleware copy it
 * (`{ ...config }`) on every call: ~22 µs a copy, against ~0.3 µs for the same object with fast
 * properties; 10–15 % of a DynamoDB or SQS call's client CPU. The client reads `this.config` at
 * its first call of each command (the per-command middleware: endpoint, serde) and at `destroy`,
 * so a fast copy taken here serves those; the client-wide middleware (auth, signing, retry) keep
 * the object they were built with. Both hold the same values; the only thing the SDK writes into
 * a config after construction is the clock-skew offset, written and read by signing alone, on
 * its own object (the endpoint middleware writes only to its own per-call copy).
 */
function withFastConfig<C>(client: C): C {
  const sdkClient = client as { config: object };
  sdkClient.config = { ...sdkClient.config };
  return client;
}

export function createSqsClient(options: AwsClientOptions = {}): SQSClient {
  return withoutSdkLogging(new SQSClient({ ...baseConfig(options, options.endpoints?.sqs), ...CACHED }));
}

/** The document client (plain JavaScript values), for everything but the hottest paths. */
export function createDynamoClient(options: AwsClientOptions = {}): DynamoDBDocumentClient {
  const client = withoutSdkLogging(new DynamoDBClient(baseConfig(options, options.endpoints?.dynamodb)));
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/**
 * The low-level client with a cached middleware stack, for the per-reply writes of ingest: less
 * than half the CPU per call of the document client. Values are marshalled by the caller.
 */
export function createPlainDynamoClient(options: AwsClientOptions = {}): DynamoDBClient {
  return withoutSdkLogging(
    new DynamoDBClient({ ...baseConfig(options, options.endpoints?.dynamodb), ...CACHED }),
  );
}

export function createSfnClient(options: AwsClientOptions = {}): SFNClient {
  return withoutSdkLogging(new SFNClient({ ...baseConfig(options, options.endpoints?.sfn), ...CACHED }));
}

export function createKmsClient(options: AwsClientOptions = {}): KMSClient {
  return withoutSdkLogging(new KMSClient({ ...baseConfig(options, options.endpoints?.kms), ...CACHED }));
}

export function createEventBridgeClient(options: AwsClientOptions = {}): EventBridgeClient {
  return withoutSdkLogging(
    new EventBridgeClient({ ...baseConfig(options, options.endpoints?.events), ...CACHED }),
  );
}

/** EventBridge Scheduler (`AWS_ENDPOINT_URL_SCHEDULER` locally); only the CLI's schedule commands use it. */
export function createSchedulerClient(options: AwsClientOptions = {}): SchedulerClient {
  return withoutSdkLogging(
    new SchedulerClient({ ...baseConfig(options, options.endpoints?.scheduler), ...CACHED }),
  );
}

/** Lazily built, process-wide clients for handlers (one per module, as Lambda reuses them). */
export const defaultClients = {
  get sqs(): SQSClient {
    return (cache.sqs ??= createSqsClient());
  },
  get dynamo(): DynamoDBDocumentClient {
    return (cache.dynamo ??= createDynamoClient());
  },
  get plainDynamo(): DynamoDBClient {
    return (cache.plainDynamo ??= createPlainDynamoClient());
  },
  get sfn(): SFNClient {
    return (cache.sfn ??= createSfnClient());
  },
  get kms(): KMSClient {
    return (cache.kms ??= createKmsClient());
  },
  get events(): EventBridgeClient {
    return (cache.events ??= createEventBridgeClient());
  },
};

const cache: {
  sqs?: SQSClient;
  dynamo?: DynamoDBDocumentClient;
  plainDynamo?: DynamoDBClient;
  sfn?: SFNClient;
  kms?: KMSClient;
  events?: EventBridgeClient;
} = {};

/** The name of an AWS SDK error (`ConditionalCheckFailedException`, …), or undefined. */
export function awsErrorName(error: unknown): string | undefined {
  if (error instanceof Error) return error.name;
  return undefined;
}

/**
 * SQS's answer for a queue that does not exist (never created, or deleted): `QueueDoesNotExist` in
 * the JSON protocol, `AWS.SimpleQueueService.NonExistentQueue` in the query protocol (as the name,
 * or only as the error's `Code`). The agent recreates its inbox on it; the lifecycle steps count a
 * DeleteQueue that meets it as done.
 */
export function isMissingQueue(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { Code?: unknown }).Code;
  return (
    error.name === 'QueueDoesNotExist' ||
    error.name === 'AWS.SimpleQueueService.NonExistentQueue' ||
    code === 'AWS.SimpleQueueService.NonExistentQueue'
  );
}
