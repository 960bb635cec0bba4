/**
 * Where a stage's resources are, as the control-plane functions see them: environment variables
 * set by serverless.yml in AWS and by the local runtime on one machine.
 */
export interface StageConfig {
  stage: string;
  nodesTable: string;
  runsTable: string;
  repliesQueueUrl: string;
  /** `file:<path to PEM private key>` (local stack) or a KMS key id/ARN (AWS). */
  signingKey: string;
  /** EventBridge bus name; events are not published when empty. */
  eventBus: string;
  retentionDays: number;
  /**
   * Check that a reply sent by an EC2 instance role comes from the instance it claims to be
   * (SQS `SenderId` = `<role id>:<instance id>`). On by default; the local stack turns it off.
   */
  verifySender: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function required(env: NodeJS.ProcessEnv, key: string): string {
  const value = env[key];
  if (value === undefined || value === '') {
    throw new ConfigError(`environment variable ${key} is not set`);
  }
  return value;
}

/** Reads the stage configuration; throws ConfigError naming the first missing variable. */
export function loadStageConfig(env: NodeJS.ProcessEnv = process.env): StageConfig {
  const retention = Number(env.DROVER_RETENTION_DAYS ?? '30');
  if (!Number.isInteger(retention) || retention < 1) {
    throw new ConfigError(
      `DROVER_RETENTION_DAYS must be a positive whole number, got "${env.DROVER_RETENTION_DAYS}"`,
    );
  }
  return {
    stage: required(env, 'DROVER_STAGE'),
    nodesTable: required(env, 'DROVER_NODES_TABLE'),
    runsTable: required(env, 'DROVER_RUNS_TABLE'),
    repliesQueueUrl: required(env, 'DROVER_REPLIES_QUEUE_URL'),
    signingKey: env.DROVER_SIGNING_KEY ?? '',
    eventBus: env.DROVER_EVENT_BUS ?? '',
    retentionDays: retention,
    verifySender: (env.DROVER_VERIFY_SENDER ?? 'true') !== 'false',
  };
}

/** Stage names become part of queue and table names. */
const STAGE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,20}$/;

/**
 * Why `stage` cannot be a stage name, or undefined if it can. Besides the pattern: no `-node`
 * segment after the first (`ci-node-x`, `ci-node`), because agents of stage `ci` may use every
 * queue named `drover-ci-node-*` (their inboxes: IAM cannot tie a queue to the calling instance),
 * and that pattern would then cover the other stage's queues too.
 */
export function stageNameProblem(stage: string): string | undefined {
  if (!STAGE_NAME_PATTERN.test(stage))
    return 'lowercase letters, digits and dashes, starting with a letter, at most 21 characters';
  if (/-node(-|$)/.test(stage))
    return `no "-node" segment after the first: drover-<stage>-node-* names the inboxes of a stage, so agents of another stage could reach this one's queues`;
  return undefined;
}

/** The inbox queue name of one node, e.g. `drover-prod-node-i-0abc`. */
export function inboxQueueName(stage: string, nodeId: string): string {
  return `drover-${stage}-node-${nodeId.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 80);
}
