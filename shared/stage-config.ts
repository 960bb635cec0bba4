/**
 * Where a stage's resources are, as the control-plane functions see them: environment variables
 * set by serverless.yml in AWS and by the local runtime on one machine.
 */
import { createHash } from 'node:crypto';
import { parseSenderBindings, type SenderBindings } from './sender-binding.ts';

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
   * Check that every reply comes from a principal allowed to speak for the node it names
   * (`shared/sender-binding.ts`). On by default, in the local stack too.
   */
  verifySender: boolean;
  /** Who may speak for which node besides EC2 instance roles (`DROVER_SENDER_BINDINGS`). */
  senderBindings: SenderBindings;
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
    senderBindings: senderBindingsFrom(env.DROVER_SENDER_BINDINGS),
  };
}

function senderBindingsFrom(text: string | undefined): SenderBindings {
  try {
    return parseSenderBindings(text);
  } catch (e: unknown) {
    throw new ConfigError(e instanceof Error ? e.message : String(e), { cause: e });
  }
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

/** SQS standard queue names: letters, digits, `-` and `_`, 1 to 80 characters. */
const QUEUE_NAME_MAX = 80;
/** The suffix an escaped node id gets: `-x` and 16 hex digits of the id's SHA-256. */
const ESCAPE_SUFFIX = /-x[0-9a-f]{16}$/;

/**
 * The inbox queue name of one node, e.g. `drover-prod-node-i-0abc`. One name per node id, never
 * two ids to one name: an id that is a valid queue-name tail and fits is used as it is; any other
 * (`web.1`, a long one, or one that itself ends like an escape) keeps a readable prefix and gets
 * `-x<16 hex of its SHA-256>`, a shape no id used as it is ends with. Without this, `web.1` and
 * `web_1`, or two ids sharing their first 63 characters, would share one inbox.
 */
export function inboxQueueName(stage: string, nodeId: string): string {
  const prefix = `drover-${stage}-node-`;
  const plain = /^[A-Za-z0-9_-]+$/.test(nodeId) && !ESCAPE_SUFFIX.test(nodeId);
  if (plain && prefix.length + nodeId.length <= QUEUE_NAME_MAX) return prefix + nodeId;
  const hash = createHash('sha256').update(nodeId, 'utf8').digest('hex').slice(0, 16);
  const room = QUEUE_NAME_MAX - prefix.length - 18;
  return `${prefix}${nodeId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, room)}-x${hash}`;
}

/**
 * The inbox URL of one node, derived from the stage's replies queue URL (same endpoint, same
 * account) and the node id: never taken from a message. A heartbeat names an inbox too, but the
 * SQS client sends to whatever host a queue URL names (with its signed headers and session
 * token), so a URL a host chose would let it point Dispatch anywhere.
 */
export function inboxQueueUrl(repliesQueueUrl: string, stage: string, nodeId: string): string {
  const name = inboxQueueName(stage, nodeId);
  const around = inboxUrlAround(repliesQueueUrl);
  return around ? around[0] + name + around[1] : withQueueName(repliesQueueUrl, name);
}

/** The URL with its last path segment set to `name`. */
function withQueueName(repliesQueueUrl: string, name: string): string {
  const url = new URL(repliesQueueUrl);
  const path = url.pathname.split('/');
  path[path.length - 1] = name;
  url.pathname = path.join('/');
  return url.toString();
}

/**
 * The replies queue URL around its queue name, parsed once per URL: Dispatch derives one inbox
 * URL per host (a `new URL` each was 0.5 % of the stack's CPU at 1,000 agents). Splicing the
 * name in is what setting the last path segment does, as a queue name never needs escaping.
 */
const urlsAround = new Map<string, readonly [string, string]>();
const NAME_MARK = 'drover-inbox-name-mark';
function inboxUrlAround(repliesQueueUrl: string): readonly [string, string] | undefined {
  let around = urlsAround.get(repliesQueueUrl);
  if (around === undefined) {
    const marked = withQueueName(repliesQueueUrl, NAME_MARK);
    const at = marked.indexOf(NAME_MARK);
    // The mark elsewhere in the URL too (never in a real one): no template, each URL built whole.
    if (at !== marked.lastIndexOf(NAME_MARK)) return undefined;
    around = [marked.slice(0, at), marked.slice(at + NAME_MARK.length)];
    if (urlsAround.size < 16) urlsAround.set(repliesQueueUrl, around);
  }
  return around;
}
