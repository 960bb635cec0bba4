/**
 * The simulation's surroundings: the embedded stack, a delaying proxy in front of its SQS and
 * DynamoDB emulators, and the clients that go around them (seeding) or through them (the run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDynamoClient, createSfnClient, createSqsClient } from '#shared/aws.ts';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { LatencyProxy, type ServiceProfile } from './latency-proxy.ts';
import type { Profile } from './figures.ts';

export interface SimulationEnvironment {
  stack: LocalStack;
  sqsProxy: LatencyProxy;
  dbProxy: LatencyProxy;
  /** Clients straight to the emulators: seeding and reading the outcome cost no injected latency. */
  direct: { db: ReturnType<typeof createDynamoClient>; sqs: ReturnType<typeof createSqsClient> };
  /** The Step Functions client the run is started and followed with. */
  sfn: ReturnType<typeof createSfnClient>;
  /** A queue URL naming the proxy, so calls by URL (the SDK sends to a QueueUrl's host) go through it. */
  viaProxy: (url: string) => string;
  stop: () => Promise<void>;
}

export async function startEnvironment(
  profile: Profile,
  latencyScale: number,
  home: string | undefined,
  log: (text: string) => void,
): Promise<SimulationEnvironment> {
  const dir = home ?? mkdtempSync(join(tmpdir(), 'drover-simulate-'));
  const stack = await startLocalStack({
    home: dir,
    stage: 'sim',
    onError: (e) => log(`stack: ${String(e)}`),
  });
  const { file } = stack;
  // To the SQS emulator in process (no socket): the fake fleet's long polls would each hold one.
  const sqsProxy = new LatencyProxy(file.endpoints.sqs, profile.sqs as ServiceProfile, latencyScale, {
    acceptUpstream: stack.acceptSqsConnection,
  });
  const dbProxy = new LatencyProxy(file.endpoints.dynamodb, profile.dynamodb as ServiceProfile, latencyScale);
  const clients = { region: file.region, credentials: file.credentials, endpoints: file.endpoints };
  const direct = { db: createDynamoClient(clients), sqs: createSqsClient(clients) };
  const sfn = createSfnClient(clients);
  const stop = async () => {
    direct.db.destroy();
    direct.sqs.destroy();
    sfn.destroy();
    await stack.stop();
    await sqsProxy.stop();
    await dbProxy.stop();
    if (!home) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await sqsProxy.start();
    await dbProxy.start();
  } catch (error: unknown) {
    await stop();
    throw error;
  }
  // The handlers build their clients on first use from these, as a Lambda reads its environment.
  process.env.AWS_ENDPOINT_URL_SQS = sqsProxy.url;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dbProxy.url;
  const viaProxy = (url: string) => url.replace(file.endpoints.sqs, sqsProxy.url);
  // Dispatch derives each inbox URL from the replies queue URL: naming the proxy there routes its
  // sends through it too. Set here, at once: the handlers read their stage configuration once, on
  // first use (functions/run/wiring.ts), and the reaper's first tick, a minute after the stack
  // starts, came before a 10,000-host fleet was seeded, so Dispatch sent around the proxy.
  process.env.DROVER_REPLIES_QUEUE_URL = viaProxy(file.repliesQueueUrl);
  return { stack, sqsProxy, dbProxy, direct, sfn, viaProxy, stop };
}
