/**
 * The whole control plane on one machine: emulators on loopback, the handlers hosted in this
 * process, the ASL files run by the local Step Functions, ingest fed by an event source poller.
 * The code paths are the AWS ones; only endpoints and the handler host differ.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoClient, createSqsClient } from '#shared/aws.ts';
import { ensureLocalKeyPair } from '#shared/signing.ts';
import { agentParameterName } from '#shared/agent-parameter.ts';
import { assertNoLocalStack, localStackFilePath, type LocalStackFile } from '#shared/local-stack-file.ts';
import { createApiServer, listen } from './api-server.ts';
import { createStageResources, startDynalite, startSqs, type Closable } from './emulators.ts';
import { LambdaRuntime, type InvokeFault } from './lambda-runtime.ts';
import { LocalStepFunctions } from './step-functions.ts';
import { LambdaBundles } from './lambda-bundles.ts';
import { LocalEventBus } from './event-bus.ts';
import { SqsEventSource } from './event-source.ts';
import { SenderRegistry } from './sqs-senders.ts';
import { LOCAL_SENDER_BINDINGS } from '#shared/local-principals.ts';
import { sweepExpired } from './ttl-sweeper.ts';
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
}

export interface LocalStack {
  file: LocalStackFile;
  bus: LocalEventBus;
  scheduler: LocalScheduler;
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

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const stage = options.stage ?? 'local';
  const region = options.region ?? 'us-east-1';
  const stateDir = join(options.home, 'local');
  assertNoLocalStack(options.home);
  mkdirSync(stateDir, { recursive: true });
  const closables: Closable[] = [];
  const stopFns: (() => Promise<void> | void)[] = [];
  try {
    const dynamo = await startDynalite({ path: options.persist ? join(stateDir, 'dynamodb') : undefined });
    closables.push(dynamo);
    const senders = new SenderRegistry();
    const sqs = await startSqs({ region, senders });
    closables.push(sqs);

    const endpoints = {
      sqs: `http://127.0.0.1:${sqs.port}`,
      dynamodb: `http://127.0.0.1:${dynamo.port}`,
      sfn: '',
      events: '',
      scheduler: '',
      autoscaling: '',
      ssm: '',
    };
    const clientOptions = { region, credentials: LOCAL_CREDENTIALS, endpoints };
    const sqsClient = createSqsClient(clientOptions);
    stopFns.push(() => sqsClient.destroy());
    // CreateTable needs the plain client (the document client is for items); used once, here.
    const tables = new DynamoDBClient({
      region,
      credentials: LOCAL_CREDENTIALS,
      endpoint: endpoints.dynamodb,
    });
    const resources = await createStageResources(stage, { dynamo: tables, sqs: sqsClient }).finally(() =>
      tables.destroy(),
    );

    const privateKeyPath = join(stateDir, 'signing-key.pem');
    const publicKeyPath = join(stateDir, 'signing-key.pub.pem');
    ensureLocalKeyPair(privateKeyPath, publicKeyPath);

    const bundles = options.lambdaBundles
      ? LambdaBundles.open(options.lambdaBundles, PROJECT_ROOT)
      : undefined;
    if (bundles) stopFns.push(() => bundles.remove());
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
    closables.push({
      port: apiPort,
      close: () =>
        new Promise<void>((r) => {
          api.closeAllConnections();
          api.close(() => r());
        }),
    });
    endpoints.sfn = `http://127.0.0.1:${apiPort}`;
    endpoints.events = endpoints.sfn;
    endpoints.ssm = endpoints.sfn;
    const autoScaling = await startLocalAutoScaling({ home: options.home, root: PROJECT_ROOT, bus, listen });
    stopFns.push(() => autoScaling.stop());
    endpoints.autoscaling = autoScaling.endpoint;

    // The handlers read these, exactly as they read their Lambda environment in AWS.
    Object.assign(process.env, {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_SQS: endpoints.sqs,
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
      AWS_ENDPOINT_URL_SFN: endpoints.sfn,
      AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.events,
      AWS_ENDPOINT_URL_AUTO_SCALING: endpoints.autoscaling,
      AWS_ENDPOINT_URL_SSM: endpoints.ssm,
      // The API server answers STS GetCallerIdentity too: Plan checks caller proofs there.
      AWS_ENDPOINT_URL_STS: endpoints.sfn,
      DROVER_STAGE: stage,
      DROVER_NODES_TABLE: resources.nodesTable,
      DROVER_RUNS_TABLE: resources.runsTable,
      DROVER_REPLIES_QUEUE_URL: resources.repliesQueueUrl,
      DROVER_SIGNING_KEY: `file:${privateKeyPath}`,
      DROVER_EVENT_BUS: `drover-${stage}`,
      DROVER_EVENTS_TABLE: resources.eventsTable,
      DROVER_LIFECYCLE_TABLE: resources.lifecycleTable,
      // Senders are checked here too: SenderIds come from the sending credentials (sqs-senders.ts).
      DROVER_SENDER_BINDINGS: JSON.stringify(LOCAL_SENDER_BINDINGS),
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    });
    await lambdas.warm();

    const stateMachines: Record<string, string> = {};
    const machinesDir = join(PROJECT_ROOT, 'state-machines');
    for (const file of readdirSync(machinesDir).filter((f) => f.endsWith('.asl.json'))) {
      const name = file.replace(/\.asl\.json$/, '');
      const definition = JSON.parse(
        substituteFunctionArns(readFileSync(join(machinesDir, file), 'utf8'), (fn) => lambdas.arnOf(fn)),
      ) as Record<string, unknown>;
      stateMachines[name] = sfn.createStateMachine(`drover-${stage}-${name}`, definition);
    }
    stopFns.push(() => sfn.stopAll());
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
    closables.push(scheduling.server);
    stopFns.push(() => scheduling.scheduler.stop());
    endpoints.scheduler = scheduling.endpoint;
    process.env.AWS_ENDPOINT_URL_SCHEDULER = scheduling.endpoint;

    const ingest = new SqsEventSource({
      sqs: sqsClient,
      queueUrl: resources.repliesQueueUrl,
      queueArn: resources.repliesQueueArn,
      region,
      invoke: (event) => lambdas.invoke('ingest', event),
      senderOf: (messageId) => senders.senderOf(messageId),
      onError: options.onError,
    });
    ingest.start();
    stopFns.push(() => ingest.stop());

    stopFns.push(
      startMembership({
        lambdas,
        bus,
        stage,
        reaperIntervalMs: options.reaperIntervalMs,
        onError: options.onError,
        startMachine: (name, input) =>
          sfn.startExecution(stateMachines[name] ?? `unknown:${name}`, crypto.randomUUID(), input),
      }),
    );

    const db = createDynamoClient(clientOptions);
    stopFns.push(() => db.destroy());
    const sweep = setInterval(() => {
      Promise.all([
        sweepExpired(db, resources.nodesTable, ['nodeId']),
        sweepExpired(db, resources.runsTable, ['runId', 'sk']),
        sweepExpired(db, resources.eventsTable, ['day', 'sk']),
      ]).catch((error: unknown) => options.onError?.(error));
    }, 60_000);
    sweep.unref();
    stopFns.push(() => clearInterval(sweep));

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
    // What serverless.yml publishes as /drover/<stage>/agent (here the local public key, not a KMS key id).
    parameters.set(
      agentParameterName(stage),
      JSON.stringify({
        stage,
        region,
        replies_queue_url: resources.repliesQueueUrl,
        public_key: readFileSync(publicKeyPath, 'utf8'),
      }),
    );
    const stackFile = localStackFilePath(options.home);
    writeFileSync(stackFile, JSON.stringify(file, null, 2) + '\n');
    stopFns.push(() => rmSync(stackFile, { force: true }));

    let stopped: Promise<void> | undefined;
    return {
      file,
      bus,
      scheduler: scheduling.scheduler,
      stop: () =>
        (stopped ??= (async () => {
          for (const fn of stopFns.reverse()) await fn();
          for (const c of closables.reverse()) await c.close();
        })()),
    };
  } catch (error: unknown) {
    for (const fn of stopFns.reverse()) await fn();
    for (const c of closables.reverse()) await c.close();
    throw error;
  }
}
