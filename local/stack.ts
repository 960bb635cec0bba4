/**
 * The whole control plane on one machine: emulators on loopback, the handlers hosted in this
 * process, the ASL files run by the local Step Functions, ingest fed by an event source poller.
 * The code paths are the AWS ones; only endpoints and the handler host differ.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoClient, createSqsClient } from '#shared/aws.ts';
import { serveInProcess } from '#shared/in-process-endpoints.ts';
import { ensureLocalKeyPair } from '#shared/signing.ts';
import { agentParameterName } from '#shared/agent-parameter.ts';
import { assertNoLocalStack, localStackFilePath, type LocalStackFile } from '#shared/local-stack-file.ts';
import { createApiServer, listen } from './api-server.ts';
import {
  createStageResources,
  startDynalite,
  startSqs,
  type Closable,
  type StageResources,
} from './emulators.ts';
import { lambdaEnvironment, type LocalEndpoints } from './lambda-environment.ts';
import { LambdaRuntime, type InvokeFault } from './lambda-runtime.ts';
import { LocalStepFunctions } from './step-functions.ts';
import { LambdaBundles } from './lambda-bundles.ts';
import { LocalEventBus } from './event-bus.ts';
import { SqsEventSource } from './event-source.ts';
import { localIngestPollers } from './ingest-pollers.ts';
import { SenderRegistry } from './sqs-senders.ts';
import { TtlSweeper } from './ttl-sweeper.ts';
import { CONTROL_PLANE_FUNCTIONS, placeholderFor, type FunctionName } from './functions.ts';
import { startLocalScheduler, type LocalScheduler } from './scheduler-stack.ts';
import { startMembership } from './membership.ts';
import { startLocalAutoScaling } from './autoscaling-server.ts';

export const PROJECT_ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const ACCOUNT = '000000000000';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LocalStackOptions {
  /** The `.drover` directory: local.json, keys, state. */
  home: string;
  stage?: string;
  region?: string;
  /** Keep DynamoDB data on disk under `<home>/local/dynamodb` instead of in memory. */
  persist?: boolean;
  onError?: (error: unknown) => void;
  /** The scheduler's clock; when given, the stack does not tick the scheduler (tests call tick()). */
  schedulerClock?: () => number;
  /** Run the functions from the zip files `sls package --package <dir>` wrote there (what deploys). */
  lambdaBundles?: string;
  /** How often the reaper runs (serverless.yml: every minute); tests run it more often. */
  reaperIntervalMs?: number;
  /** Wraps every function invocation: tests inject Lambda's faults (lambda-runtime.ts). */
  lambdaFault?: InvokeFault;
  /** The stage param ingestMinPollers: the replies event source starts this wide (ingest-pollers.ts). */
  ingestMinPollers?: number;
}

export interface LocalStack {
  file: LocalStackFile;
  bus: LocalEventBus;
  scheduler: LocalScheduler;
  /** An in-process connection to the SQS emulator, no socket (the simulated fleet's; emulators.ts). */
  acceptSqsConnection(connection: Duplex): void;
  stop(): Promise<void>;
}

/** Replaces `${NameFunctionArn}` placeholders, as DefinitionSubstitutions do in AWS. */
export function substituteFunctionArns(asl: string, arnOf: (name: FunctionName) => string): string {
  let text = asl;
  for (const name of Object.keys(CONTROL_PLANE_FUNCTIONS) as FunctionName[]) {
    text = text.split(placeholderFor(name)).join(arnOf(name));
  }
  const left = /\$\{[A-Za-z]+FunctionArn\}/.exec(text);
  if (left) throw new Error(`state machine refers to an unknown function: ${left[0]}`);
  return text;
}

/** What the stack stops (on stop, or when starting fails): services, then servers, newest first. */
class Teardown {
  readonly #stops: (() => Promise<void> | void)[] = [];
  readonly #servers: Closable[] = [];
  add(stop: () => Promise<void> | void): void {
    this.#stops.push(stop);
  }
  server(server: Closable): void {
    this.#servers.push(server);
  }
  async run(): Promise<void> {
    for (const fn of this.#stops.reverse()) await fn();
    for (const c of this.#servers.reverse()) await c.close();
  }
}

type Endpoints = LocalEndpoints & { scheduler: string };

/** Where the stack stands: what every step of its start reads. */
interface Site {
  options: LocalStackOptions;
  stage: string;
  region: string;
  stateDir: string;
  teardown: Teardown;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const stage = options.stage ?? 'local';
  const region = options.region ?? 'us-east-1';
  const stateDir = join(options.home, 'local');
  assertNoLocalStack(options.home);
  mkdirSync(stateDir, { recursive: true });
  const teardown = new Teardown();
  try {
    return await assemble({ options, stage, region, stateDir, teardown });
  } catch (error: unknown) {
    await teardown.run();
    throw error;
  }
}

async function assemble(site: Site): Promise<LocalStack> {
  const { options, stage, region, stateDir, teardown } = site;
  const storage = await startStorage(site);
  const { endpoints, resources } = storage;
  const privateKeyPath = join(stateDir, 'signing-key.pem');
  const publicKeyPath = join(stateDir, 'signing-key.pub.pem');
  ensureLocalKeyPair(privateKeyPath, publicKeyPath);
  const { lambdas, sfn, bus, parameters } = await startServices(site, endpoints);

  // The handlers read these, exactly as they read their Lambda environment in AWS.
  Object.assign(
    process.env,
    lambdaEnvironment({
      stage,
      region,
      credentials: LOCAL_CREDENTIALS,
      endpoints,
      resources,
      privateKeyPath,
    }),
  );
  await lambdas.warm();

  const stateMachines = createStateMachines(sfn, lambdas, stage);
  teardown.add(() => sfn.stopAll());
  // The lifecycle steps start bootstrap and decommission runs (serverless.yml: Ref RunStateMachine).
  process.env.DROVER_RUN_STATE_MACHINE = stateMachines.run;
  // react starts a reaction's debounce window (serverless.yml: the reaction machine's ARN).
  process.env.DROVER_REACTION_STATE_MACHINE = stateMachines.reaction;

  const scheduling = await startLocalScheduler({
    stage,
    region,
    account: ACCOUNT,
    sfn,
    stateMachines,
    stateDir,
    ...options,
  });
  teardown.server(scheduling.server);
  teardown.add(() => scheduling.scheduler.stop());
  endpoints.scheduler = scheduling.endpoint;
  process.env.AWS_ENDPOINT_URL_SCHEDULER = scheduling.endpoint;

  startBackground(site, { ...storage, lambdas, bus, sfn, stateMachines });

  const file: LocalStackFile = {
    stage,
    region,
    pid: process.pid,
    startedAt: Date.now(),
    credentials: LOCAL_CREDENTIALS,
    endpoints,
    stateMachines,
    nodesTable: resources.nodesTable,
    runsTable: resources.runsTable,
    eventsTable: resources.eventsTable,
    lifecycleTable: resources.lifecycleTable,
    repliesQueueUrl: resources.repliesQueueUrl,
    deadLetterQueueUrl: resources.deadLetterQueueUrl,
    publicKeyPath,
    stateDir,
    scheduleGroup: scheduling.group,
    schedulerRoleArn: scheduling.roleArn,
  };
  publish(site, file, parameters);

  let stopped: Promise<void> | undefined;
  return {
    file,
    bus,
    scheduler: scheduling.scheduler,
    acceptSqsConnection: storage.sqs.accept,
    stop: () => (stopped ??= teardown.run()),
  };
}

/** The DynamoDB and SQS emulators, and the stage's tables and queues in them. */
async function startStorage({ options, stage, region, stateDir, teardown }: Site) {
  const dynamo = await startDynalite({ path: options.persist ? join(stateDir, 'dynamodb') : undefined });
  teardown.server(dynamo);
  const senders = new SenderRegistry();
  const sqs = await startSqs({ region, senders });
  teardown.server(sqs);

  const endpoints: Endpoints = {
    sqs: `http://127.0.0.1:${sqs.port}`,
    dynamodb: `http://127.0.0.1:${dynamo.port}`,
    sfn: '',
    events: '',
    scheduler: '',
    autoscaling: '',
    ssm: '',
  };
  // The handlers of this process reach both emulators without a socket (in-process-endpoints.ts).
  teardown.add(serveInProcess(endpoints.sqs, sqs.accept));
  teardown.add(serveInProcess(endpoints.dynamodb, dynamo.accept));
  const clientOptions = { region, credentials: LOCAL_CREDENTIALS, endpoints };
  const sqsClient = createSqsClient(clientOptions);
  teardown.add(() => sqsClient.destroy());
  // CreateTable needs the plain client (the document client is for items); used once, here.
  const tables = new DynamoDBClient({
    region,
    credentials: LOCAL_CREDENTIALS,
    endpoint: endpoints.dynamodb,
  });
  const resources = await createStageResources(stage, { dynamo: tables, sqs: sqsClient }).finally(() =>
    tables.destroy(),
  );
  return { senders, endpoints, clientOptions, sqsClient, resources, sqs };
}

/**
 * The handlers' host and what runs them: Lambda, Step Functions, the event bus, the API server
 * (Step Functions, EventBridge, SSM, STS) and the local Auto Scaling; fills in their endpoints.
 */
async function startServices({ options, stage, region, stateDir, teardown }: Site, endpoints: Endpoints) {
  const bundles = options.lambdaBundles ? LambdaBundles.open(options.lambdaBundles, PROJECT_ROOT) : undefined;
  if (bundles) teardown.add(() => bundles.remove());
  const lambdas = new LambdaRuntime(
    PROJECT_ROOT,
    `arn:aws:lambda:${region}:${ACCOUNT}:function:drover-${stage}-`,
    undefined,
    bundles,
    options.lambdaFault,
  );
  const sfn = new LocalStepFunctions(lambdas, `arn:aws:states:${region}:${ACCOUNT}:`);
  const bus = new LocalEventBus(join(stateDir, 'events.jsonl'));
  const parameters = new Map<string, string>();
  const api = createApiServer(sfn, bus, parameters, LOCAL_CREDENTIALS.secretAccessKey);
  const apiPort = await listen(api);
  teardown.server({
    port: apiPort,
    close: () =>
      new Promise<void>((r) => {
        api.closeAllConnections();
        api.close(() => r());
      }),
  });
  endpoints.sfn = `http://127.0.0.1:${apiPort}`;
  teardown.add(serveInProcess(endpoints.sfn, (c) => api.emit('connection', c)));
  endpoints.events = endpoints.sfn;
  endpoints.ssm = endpoints.sfn;
  const autoScaling = await startLocalAutoScaling({ home: options.home, root: PROJECT_ROOT, bus, listen });
  teardown.add(() => autoScaling.stop());
  endpoints.autoscaling = autoScaling.endpoint;
  return { lambdas, sfn, bus, parameters };
}

/** Every ASL file of state-machines/, created with the local functions' ARNs; name → ARN. */
function createStateMachines(
  sfn: LocalStepFunctions,
  lambdas: LambdaRuntime,
  stage: string,
): Record<string, string> {
  const stateMachines: Record<string, string> = {};
  const machinesDir = join(PROJECT_ROOT, 'state-machines');
  for (const file of readdirSync(machinesDir).filter((f) => f.endsWith('.asl.json'))) {
    const name = file.replace(/\.asl\.json$/, '');
    const definition = JSON.parse(
      substituteFunctionArns(readFileSync(join(machinesDir, file), 'utf8'), (fn) => lambdas.arnOf(fn)),
    ) as Record<string, unknown>;
    stateMachines[name] = sfn.createStateMachine(`drover-${stage}-${name}`, definition);
  }
  return stateMachines;
}

interface Running {
  senders: SenderRegistry;
  clientOptions: Parameters<typeof createDynamoClient>[0];
  sqsClient: ReturnType<typeof createSqsClient>;
  resources: StageResources;
  lambdas: LambdaRuntime;
  bus: LocalEventBus;
  sfn: LocalStepFunctions;
  stateMachines: Record<string, string>;
}

/** What AWS does on its own: ingest fed by the replies queue, membership, and the TTL sweep. */
function startBackground({ options, stage, region, teardown }: Site, r: Running): void {
  const ingest = new SqsEventSource({
    sqs: r.sqsClient,
    queueUrl: r.resources.repliesQueueUrl,
    queueArn: r.resources.repliesQueueArn,
    region,
    invoke: (event) => r.lambdas.invoke('ingest', event),
    senderOf: (messageId) => r.senders.senderOf(messageId),
    onError: options.onError,
    pollers: localIngestPollers(options.ingestMinPollers),
  });
  ingest.start();
  teardown.add(() => ingest.stop());

  teardown.add(
    startMembership({
      lambdas: r.lambdas,
      bus: r.bus,
      stage,
      reaperIntervalMs: options.reaperIntervalMs,
      onError: options.onError,
      startMachine: (name, input) =>
        r.sfn.startExecution(r.stateMachines[name] ?? `unknown:${name}`, crypto.randomUUID(), input),
    }),
  );

  const db = createDynamoClient(r.clientOptions);
  teardown.add(() => db.destroy());
  // One page of each table every 10 s (local/ttl-sweeper.ts), never two steps at once; the first
  // a minute after start, as when the whole tables were swept every minute.
  const sweepers = [
    new TtlSweeper(db, r.resources.nodesTable, ['nodeId']),
    new TtlSweeper(db, r.resources.runsTable, ['runId', 'sk']),
    new TtlSweeper(db, r.resources.eventsTable, ['day', 'sk']),
  ];
  let sweeping = false;
  const firstSweepAt = Date.now() + 60_000;
  const sweep = setInterval(() => {
    if (sweeping || Date.now() < firstSweepAt) return;
    sweeping = true;
    Promise.all(sweepers.map((s) => s.step()))
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => (sweeping = false));
  }, 10_000);
  sweep.unref();
  teardown.add(() => clearInterval(sweep));
}

/** Publishes the stage: its agent parameter, and the stack file the CLI and agents find it by. */
function publish({ options, teardown }: Site, file: LocalStackFile, parameters: Map<string, string>): void {
  // What serverless.yml publishes as /drover/<stage>/agent (here the local public key, not a KMS key id).
  parameters.set(
    agentParameterName(file.stage),
    JSON.stringify({
      stage: file.stage,
      region: file.region,
      replies_queue_url: file.repliesQueueUrl,
      public_key: readFileSync(file.publicKeyPath, 'utf8'),
    }),
  );
  const stackFile = localStackFilePath(options.home);
  writeFileSync(stackFile, JSON.stringify(file, null, 2) + '\n');
  teardown.add(() => rmSync(stackFile, { force: true }));
}
