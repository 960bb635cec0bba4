/**
 * Finds the stack the CLI talks to and builds its AWS clients: the local stack from
 * `.drover/local.json`, or a deployed stage from its CloudFormation outputs (`--stage NAME` or
 * `DROVER_STAGE`). Deployed stages use the SDK's default credential chain and endpoints.
 */
import { existsSync } from 'node:fs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { createDynamoClient, createSfnClient } from '#shared/aws.ts';
import {
  LocalStackNotRunning,
  localStackFilePath,
  readLocalStackFile,
  type LocalStackFile,
} from '#shared/local-stack-file.ts';
import type { StackSelection } from '#shared/command-host.ts';
import { CliError } from './errors.ts';

export const LOCAL_STAGE = 'local';

/** What reading and following runs needs (the benchmark builds one of these too). */
export interface StackConnection {
  stage: string;
  runStateMachineArn: string;
  runsTable: string;
  nodesTable: string;
  db: DynamoDBDocumentClient;
  sfn: SFNClient;
  close(): void;
}

/** A stack the CLI connected to, with what its commands need besides. */
export interface ConnectedStack extends StackConnection {
  region: string;
  /** The embedded stack of `drover local`, not a deployed stage. */
  local: boolean;
  cancelStateMachineArn: string | undefined;
  /** The event log (`drover events`); undefined for a stack deployed before it existed. */
  eventsTable: string | undefined;
  /** Per-group lifecycle configuration (`drover lifecycle`). */
  lifecycleTable: string | undefined;
  /** The Auto Scaling endpoint: the local emulator's, or undefined for AWS's own. */
  autoScalingEndpoint: string | undefined;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** The stage's outputs came from the cache (they may be out of date). */
  fromCache: boolean;
  /** Where `drover schedule` puts schedules; undefined for a stage deployed before schedules existed. */
  schedules?: StageSchedules;
  /** Where to sign the caller proof for (the local stack answers STS itself); AWS's otherwise. */
  stsEndpoint?: string;
}

/** The stage's EventBridge Scheduler group, the role its schedules run as, and (locally) the endpoint. */
export interface StageSchedules {
  group: string;
  roleArn: string;
  endpoint?: string;
}

export type { StackSelection };

export function selectedStage(selection: StackSelection): string {
  const env = selection.env ?? process.env;
  return selection.stage ?? (env.DROVER_STAGE || LOCAL_STAGE);
}

function connectLocal(home: string): ConnectedStack {
  let file: LocalStackFile;
  try {
    file = readLocalStackFile(home);
  } catch (error: unknown) {
    if (error instanceof LocalStackNotRunning) throw new CliError(error.message, 4, { cause: error });
    throw error;
  }
  const options = { region: file.region, endpoints: file.endpoints, credentials: file.credentials };
  const run = file.stateMachines.run;
  if (!run) throw new CliError(`the local stack has no "run" state machine: restart it with \`npm start\``);
  const db = createDynamoClient(options);
  const sfn = createSfnClient(options);
  return {
    stage: file.stage,
    region: file.region,
    local: true,
    runStateMachineArn: run,
    cancelStateMachineArn: file.stateMachines.cancel,
    runsTable: file.runsTable,
    nodesTable: file.nodesTable,
    eventsTable: file.eventsTable,
    lifecycleTable: file.lifecycleTable,
    autoScalingEndpoint: file.endpoints.autoscaling,
    credentials: file.credentials,
    db,
    sfn,
    fromCache: false,
    ...(file.scheduleGroup && file.schedulerRoleArn
      ? {
          schedules: {
            group: file.scheduleGroup,
            roleArn: file.schedulerRoleArn,
            endpoint: file.endpoints.scheduler,
          },
        }
      : {}),
    stsEndpoint: file.endpoints.sfn,
    close() {
      db.destroy();
      sfn.destroy();
    },
  };
}

async function connectDeployed(selection: StackSelection, stage: string): Promise<ConnectedStack> {
  const env = selection.env ?? process.env;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const { createCloudFormationClient, resolveStage } = await import('./stage-outputs.ts');
  let cfn: ReturnType<typeof createCloudFormationClient> | undefined;
  try {
    const { outputs, fromCache } = await resolveStage({
      home: selection.home,
      stage,
      region,
      refresh: selection.refresh,
      cfn: () => (cfn ??= createCloudFormationClient(region)),
    });
    const db = createDynamoClient({ region: outputs.region });
    const sfn = createSfnClient({ region: outputs.region });
    return {
      stage,
      region: outputs.region,
      local: false,
      runStateMachineArn: outputs.runStateMachineArn,
      cancelStateMachineArn: outputs.cancelStateMachineArn,
      runsTable: outputs.runsTable,
      nodesTable: outputs.nodesTable,
      eventsTable: outputs.eventsTable,
      lifecycleTable: outputs.lifecycleTable,
      autoScalingEndpoint: undefined,
      db,
      sfn,
      fromCache,
      ...(outputs.scheduleGroupName && outputs.schedulerRoleArn
        ? { schedules: { group: outputs.scheduleGroupName, roleArn: outputs.schedulerRoleArn } }
        : {}),
      close() {
        db.destroy();
        sfn.destroy();
      },
    };
  } finally {
    cfn?.destroy();
  }
}

export async function connectStack(selection: StackSelection): Promise<ConnectedStack> {
  const stage = selectedStage(selection);
  // A local stack started under another stage name is found by that name too.
  const localRunning = existsSync(localStackFilePath(selection.home));
  if (stage === LOCAL_STAGE || (localRunning && readLocalStage(selection.home) === stage)) {
    return connectLocal(selection.home);
  }
  return connectDeployed(selection, stage);
}

function readLocalStage(home: string): string | undefined {
  try {
    return readLocalStackFile(home).stage;
  } catch {
    return undefined;
  }
}

const MISSING_RESOURCE_ERRORS = new Set([
  'ResourceNotFoundException',
  'StateMachineDoesNotExist',
  'QueueDoesNotExist',
]);

/** An AWS error (or one caused by it) that means a cached resource name is out of date. */
export function isMissingResource(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (MISSING_RESOURCE_ERRORS.has(e.name)) return true;
  }
  return false;
}

/**
 * Runs `work` with a connection and closes it. When a deployed stage's cached outputs name a
 * resource that no longer exists, the outputs are re-read once and `work` runs again: callers
 * must only fail that way before their first side effect (all our first calls are reads or
 * StartExecution, which fails before starting anything).
 */
export async function withStack<T>(
  selection: StackSelection,
  work: (conn: ConnectedStack) => Promise<T>,
): Promise<T> {
  const conn = await connectStack(selection);
  try {
    return await work(conn);
  } catch (error: unknown) {
    if (!conn.fromCache || !isMissingResource(error)) throw error;
  } finally {
    conn.close();
  }
  const fresh = await connectStack({ ...selection, refresh: true });
  try {
    return await work(fresh);
  } finally {
    fresh.close();
  }
}

/** The execution ARN of a run, from its state machine's ARN (execution names are run ids). */
export function executionArnOf(stateMachineArn: string, runId: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${runId}`;
}
