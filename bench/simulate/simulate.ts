/**
 * `npm run bench -- --simulate N`: one run across a simulated fleet of N hosts on the embedded
 * stack, with an AWS latency profile (bench/aws-latency.json) injected on every SQS and DynamoDB
 * call and added, per call counted, for Step Functions, Lambda and KMS. What it measures and what
 * it models is said beside each figure (docs/scale.md has the tables).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { createDynamoClient, createSfnClient, createSqsClient } from '#shared/aws.ts';
import { newRunId } from '#shared/ids.ts';
import { LOCAL_FLEET_KEY } from '#shared/local-principals.ts';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { RunReader } from '#shared/stores/runs-reads.ts';
import { batchSk } from '#shared/runs-table.ts';
import { startLocalStack, PROJECT_ROOT } from '#local/stack.ts';
import { buildRunRequest } from '../../cli/run-request.ts';
import { LatencyProxy, type ServiceProfile } from './latency-proxy.ts';
import { seedFleet, startFakeAgents } from './fleet.ts';
import { measurePlanMemory } from './plan-memory.ts';
import { runFigures, type Profile, type SimulationInput, type SimulationReport } from './figures.ts';
import { reportText } from './report.ts';

export interface SimulateOptions {
  hosts: number;
  latencyFile: string;
  latencyScale: number;
  json: boolean;
  home?: string;
  /** Compare with reading the whole table at once (skipped above this many hosts: it is what does not fit). */
  wholeScanUpTo: number;
}

const TIMEOUT_MS = 30 * 60_000;

export function loadProfile(file: string): Profile {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { calls?: Profile };
  if (!parsed.calls?.sqs || !parsed.calls.dynamodb) {
    throw new Error(
      `${file}: a latency profile needs calls.sqs and calls.dynamodb (see bench/aws-latency.json)`,
    );
  }
  return parsed.calls;
}

export async function simulate(options: SimulateOptions): Promise<SimulationReport> {
  const profile = loadProfile(resolve(options.latencyFile));
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'drover-simulate-'));
  const log = (text: string) => process.stderr.write(`${text}\n`);
  const stack = await startLocalStack({ home, stage: 'sim', onError: (e) => log(`stack: ${String(e)}`) });
  const { file } = stack;
  const sqsProxy = new LatencyProxy(file.endpoints.sqs, profile.sqs as ServiceProfile, options.latencyScale);
  const dbProxy = new LatencyProxy(
    file.endpoints.dynamodb,
    profile.dynamodb as ServiceProfile,
    options.latencyScale,
  );
  const clients = { region: file.region, credentials: file.credentials };
  const direct = {
    db: createDynamoClient({ ...clients, endpoints: file.endpoints }),
    sqs: createSqsClient({ ...clients, endpoints: file.endpoints }),
  };
  let agents: ReturnType<typeof startFakeAgents> | undefined;
  try {
    await sqsProxy.start();
    await dbProxy.start();
    // The handlers build their clients on first use from these, as a Lambda reads its environment.
    process.env.AWS_ENDPOINT_URL_SQS = sqsProxy.url;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = dbProxy.url;
    const seedStart = Date.now();
    log(`seeding ${options.hosts} hosts with 2–20 KB of facts each…`);
    // Queue URLs name the proxy, so calls by URL (the SDK sends to a QueueUrl's host) go through it.
    const viaProxy = (url: string) => url.replace(file.endpoints.sqs, sqsProxy.url);
    const fleet = await seedFleet(options.hosts, {
      db: direct.db,
      sqs: direct.sqs,
      nodesTable: file.nodesTable,
      stage: file.stage,
      inboxUrl: viaProxy,
    });
    log(`seeded in ${((Date.now() - seedStart) / 1000).toFixed(1)} s; measuring Plan's read of the table…`);
    const memory = await measurePlanMemory(
      direct.db,
      file.nodesTable,
      options.hosts <= options.wholeScanUpTo,
    );
    const proxied = {
      sqs: createSqsClient({ ...clients, endpoints: { ...file.endpoints, sqs: sqsProxy.url } }),
      sfn: createSfnClient({ ...clients, endpoints: file.endpoints }),
    };
    // Dispatch derives each inbox URL from the replies queue URL: naming the proxy there routes
    // its sends through it too (read on first use, as a Lambda reads its environment).
    process.env.DROVER_REPLIES_QUEUE_URL = viaProxy(file.repliesQueueUrl);
    // The fake agents sign as one process speaking for many simulated hosts (as the demo fleet does).
    const agentsSqs = createSqsClient({
      ...clients,
      credentials: { ...file.credentials, accessKeyId: LOCAL_FLEET_KEY },
      endpoints: { ...file.endpoints, sqs: sqsProxy.url },
      maxSockets: options.hosts + 16,
    });
    agents = startFakeAgents(fleet, { sqs: agentsSqs, repliesQueueUrl: viaProxy(file.repliesQueueUrl) });
    sqsProxy.reset();
    dbProxy.reset();
    const runId = newRunId();
    const request = buildRunRequest(runId, 'true', { timeout: 600, dt: 300 }, 'simulate');
    log(`run ${runId} on ${options.hosts} simulated hosts…`);
    const wallStart = Date.now();
    const started = await proxied.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: file.stateMachines.run,
        name: runId,
        input: JSON.stringify(request),
      }),
    );
    let execution;
    do {
      await new Promise((r) => setTimeout(r, 250));
      execution = await proxied.sfn.send(
        new DescribeExecutionCommand({ executionArn: started.executionArn }),
      );
      if (Date.now() - wallStart > TIMEOUT_MS) throw new Error(`run ${runId} did not finish in 30 minutes`);
    } while (execution.status === 'RUNNING');
    const wallMs = Date.now() - wallStart;
    const meta = await new RunReader(direct.db, file.runsTable).getMeta(runId);
    const batch = await direct.db.send(
      new GetCommand({ TableName: file.runsTable, Key: { runId, sk: batchSk(0) } }),
    );
    if (!meta) throw new Error(`run ${runId} left no record (${execution.status}: ${execution.cause ?? ''})`);
    return runFigures({
      hosts: options.hosts,
      fleet,
      meta,
      batch: batch.Item as SimulationInput['batch'],
      execution: {
        status: execution.status ?? 'UNKNOWN',
        input: execution.input ?? '',
        output: execution.output ?? '',
      },
      agents: agents.times,
      sqs: sqsProxy.snapshot(),
      dynamodb: dbProxy.snapshot(),
      memory,
      profile,
      latencyScale: options.latencyScale,
      wallMs,
    });
  } finally {
    await agents?.stop();
    direct.db.destroy();
    direct.sqs.destroy();
    await stack.stop();
    await sqsProxy.stop();
    await dbProxy.stop();
    if (!options.home) rmSync(home, { recursive: true, force: true });
  }
}

export async function simulateMain(options: SimulateOptions): Promise<number> {
  const report = await simulate(options);
  process.stdout.write(options.json ? JSON.stringify(report, null, 2) + '\n' : reportText(report));
  return report.ok ? 0 : 1;
}

export const DEFAULT_LATENCY_FILE = join(PROJECT_ROOT, 'bench', 'aws-latency.json');
