/**
 * The environment the control plane's handlers read in the local stack, exactly as they read
 * their Lambda environment in AWS (serverless.yml `provider.environment`): the same names, with
 * loopback endpoints and the local stage's tables, queues and key.
 */
import { LOCAL_SENDER_BINDINGS } from '#shared/local-principals.ts';
import type { StageResources } from './emulators.ts';

/** The loopback endpoints of the services the handlers call. */
export type LocalEndpoints = Record<'sqs' | 'dynamodb' | 'sfn' | 'events' | 'autoscaling' | 'ssm', string>;

export interface LambdaEnvironmentInput {
  stage: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  endpoints: LocalEndpoints;
  resources: StageResources;
  /** The local signing key (a file, where AWS names a KMS key). */
  privateKeyPath: string;
}

export function lambdaEnvironment(input: LambdaEnvironmentInput): Record<string, string> {
  const { stage, endpoints, resources } = input;
  return {
    AWS_REGION: input.region,
    AWS_ACCESS_KEY_ID: input.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: input.credentials.secretAccessKey,
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
    DROVER_SIGNING_KEY: `file:${input.privateKeyPath}`,
    DROVER_EVENT_BUS: `drover-${stage}`,
    DROVER_EVENTS_TABLE: resources.eventsTable,
    DROVER_LIFECYCLE_TABLE: resources.lifecycleTable,
    // Senders are checked here too: SenderIds come from the sending credentials (sqs-senders.ts).
    DROVER_SENDER_BINDINGS: JSON.stringify(LOCAL_SENDER_BINDINGS),
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
  };
}
