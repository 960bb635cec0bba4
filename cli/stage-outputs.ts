/**
 * A deployed stage, as the CLI finds it: the outputs of its CloudFormation stack `drover-<stage>`
 * (DescribeStacks), cached in `.drover/stages/<stage>.json` so commands do not call
 * CloudFormation every time. The cache is re-read when older than an hour, on `--refresh`, and
 * when a resource it names turns out not to exist (the stage was redeployed or removed).
 * Loaded only for deployed stages (the local stack needs no CloudFormation).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { z } from 'zod';
import { stageNameProblem } from '#shared/stage-config.ts';
import { CliError } from './errors.ts';

export const STAGE_CACHE_MAX_AGE_MS = 60 * 60 * 1000;

export const stageOutputsSchema = z.object({
  stage: z.string(),
  stackName: z.string(),
  region: z.string(),
  runStateMachineArn: z.string(),
  cancelStateMachineArn: z.string(),
  nodesTable: z.string(),
  runsTable: z.string(),
  repliesQueueUrl: z.string(),
  signingKeyArn: z.string().optional(),
  eventBusName: z.string().optional(),
  eventsTable: z.string().optional(),
  lifecycleTable: z.string().optional(),
  agentPolicyArn: z.string().optional(),
  operatorPolicyArn: z.string().optional(),
  scheduleGroupName: z.string().optional(),
  schedulerRoleArn: z.string().optional(),
});
export type StageOutputs = z.infer<typeof stageOutputsSchema>;

const cacheFileSchema = z.object({ fetchedAt: z.number(), outputs: stageOutputsSchema });

/** Stack output keys, as serverless.yml declares them, and where each goes. */
const REQUIRED_OUTPUTS = {
  RunStateMachineArn: 'runStateMachineArn',
  CancelStateMachineArn: 'cancelStateMachineArn',
  NodesTableName: 'nodesTable',
  RunsTableName: 'runsTable',
  RepliesQueueUrl: 'repliesQueueUrl',
} as const;
const OPTIONAL_OUTPUTS = {
  SigningKeyArn: 'signingKeyArn',
  EventBusName: 'eventBusName',
  EventsTableName: 'eventsTable',
  LifecycleTableName: 'lifecycleTable',
  AgentPolicyArn: 'agentPolicyArn',
  OperatorPolicyArn: 'operatorPolicyArn',
  ScheduleGroupName: 'scheduleGroupName',
  SchedulerRoleArn: 'schedulerRoleArn',
} as const;

export const stackNameOf = (stage: string): string => `drover-${stage}`;
export const stageCachePath = (home: string, stage: string): string => join(home, 'stages', `${stage}.json`);

/** Refuses names that cannot be a stage (they also become file names). */
export function checkStageName(stage: string): void {
  const problem = stageNameProblem(stage);
  if (problem) throw new CliError(`"${stage}" is not a stage name: ${problem} (e.g. --stage prod)`);
}

/** The outputs of a stack, named as the CLI uses them; names the first missing one. */
export function outputsFromStack(
  stage: string,
  stackName: string,
  region: string,
  outputs: readonly Output[],
): StageOutputs {
  const byKey = new Map(outputs.map((o) => [o.OutputKey, o.OutputValue]));
  const found: Record<string, string> = {};
  for (const [key, field] of Object.entries(REQUIRED_OUTPUTS)) {
    const value = byKey.get(key);
    if (!value) {
      throw new CliError(
        `stack ${stackName} has no output ${key}: it was not deployed by this version of drover (redeploy it with \`npx sls deploy --stage ${stage}\`)`,
      );
    }
    found[field] = value;
  }
  for (const [key, field] of Object.entries(OPTIONAL_OUTPUTS)) {
    const value = byKey.get(key);
    if (value) found[field] = value;
  }
  return stageOutputsSchema.parse({ ...found, stage, stackName, region: byKey.get('Region') ?? region });
}

/** DescribeStacks for the stage's stack, with operator-facing errors. */
export async function describeStage(
  cfn: CloudFormationClient,
  stage: string,
  region: string,
): Promise<StageOutputs> {
  const stackName = stackNameOf(stage);
  let stacks;
  try {
    stacks = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks ?? [];
  } catch (error: unknown) {
    const name = error instanceof Error ? error.name : '';
    const message = error instanceof Error ? error.message : String(error);
    if (name === 'ValidationError' && /does not exist/.test(message)) {
      throw new CliError(
        `unknown stage "${stage}": there is no CloudFormation stack ${stackName} in ${region} (deploy it with \`npx sls deploy --stage ${stage}\`, or check --stage and AWS_REGION)`,
        4,
        { cause: error },
      );
    }
    if (name === 'CredentialsProviderError' || /credential/i.test(message)) {
      throw new CliError(
        `no AWS credentials to read stage "${stage}": ${message} (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`,
        4,
        { cause: error },
      );
    }
    throw new CliError(`could not read stage "${stage}" from CloudFormation in ${region}: ${message}`, 4, {
      cause: error,
    });
  }
  const stack = stacks[0];
  if (!stack) throw new CliError(`unknown stage "${stage}": CloudFormation returned no stack ${stackName}`);
  if (/(_IN_PROGRESS|_FAILED)$/.test(stack.StackStatus ?? '') && !stack.Outputs?.length) {
    throw new CliError(
      `stage "${stage}" is not usable yet: stack ${stackName} is ${stack.StackStatus} (wait for the deploy to finish)`,
    );
  }
  return outputsFromStack(stage, stackName, region, stack.Outputs ?? []);
}

/**
 * The CLI's CloudFormation client: the SDK's default credential chain, and its endpoint unless
 * `AWS_ENDPOINT_URL_CLOUDFORMATION` says otherwise. Only the CLI reads stack outputs, so the
 * client is built here rather than with the control plane's in shared/aws.ts.
 */
export function createCloudFormationClient(region: string): CloudFormationClient {
  return new CloudFormationClient({ region, maxAttempts: 3 });
}

export interface StageLookup {
  home: string;
  stage: string;
  region: string;
  cfn: () => CloudFormationClient;
  refresh?: boolean;
  now?: () => number;
  maxAgeMs?: number;
}

/** The stage's outputs from the cache when fresh, else from CloudFormation (and cached). */
export async function resolveStage(
  lookup: StageLookup,
): Promise<{ outputs: StageOutputs; fromCache: boolean }> {
  checkStageName(lookup.stage);
  const now = lookup.now ?? Date.now;
  const path = stageCachePath(lookup.home, lookup.stage);
  if (!lookup.refresh) {
    const cached = readCache(path);
    if (cached && now() - cached.fetchedAt <= (lookup.maxAgeMs ?? STAGE_CACHE_MAX_AGE_MS)) {
      return { outputs: cached.outputs, fromCache: true };
    }
  }
  const outputs = await describeStage(lookup.cfn(), lookup.stage, lookup.region);
  mkdirSync(join(lookup.home, 'stages'), { recursive: true });
  writeFileSync(path, JSON.stringify({ fetchedAt: now(), outputs }, null, 2) + '\n');
  return { outputs, fromCache: false };
}

function readCache(path: string): z.infer<typeof cacheFileSchema> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = cacheFileSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    // A damaged cache is re-read from CloudFormation.
    return undefined;
  }
}
