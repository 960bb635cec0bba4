/**
 * Layout of the runs table. A run's own items share its partition (`runId`), with sort keys
 * `meta`, `batch#NNNN` and `group#NNNN#GGGG`. Each dispatch group's items, its tally
 * (`tally#NNNN#GGGG`) and its node items (`node#<nodeId>`), have a partition of their own,
 * `groupPk`, so a run's writes and reads spread over one partition per group instead of meeting
 * one partition's 1,000 writes a second (runs planned before that keep their node items under
 * `runId`, and are read there too). Every key is composed here. Shared by the control plane
 * (writes) and the CLI (reads).
 */
import type { CapturedStream, FilterSpec, RunOptions, Command, Action } from './messages.ts';

export const META_SK = 'meta';
export const batchSk = (batch: number): string => `batch#${String(batch).padStart(4, '0')}`;
export const nodeSk = (nodeId: string): string => `node#${nodeId}`;
export const NODE_SK_PREFIX = 'node#';
/**
 * A dispatch group: a slice of one batch's targets that one Dispatch invocation sends (the run
 * state machine's Map state passes the group's key, never its hosts, within the 256 KiB payload).
 */
export const groupSk = (batch: number, group: number): string =>
  `${groupSkPrefix(batch)}${String(group).padStart(4, '0')}`;
/** The sort key prefix of one batch's group items. */
export const groupSkPrefix = (batch: number): string => `group#${String(batch).padStart(4, '0')}#`;
/**
 * The runs table's sparse index of node items by `resultAt` (hash `runId`, keys only): what a
 * watcher queries to read only the hosts that landed since its last read.
 */
export const RESULTS_INDEX = 'byResult';

/**
 * A dispatch group's tally: the item that counts the group's answers (TallyItem). Its own item,
 * not the group's, so a counting update costs the tally's size, never the group's target list.
 */
export const TALLY_SK_PREFIX = 'tally#';

/**
 * The partition key (`runId` attribute) of a dispatch group's tally and node items; they keep the
 * run's own id in `run`.
 */
export const groupPk = (runId: string, batch: number, group: number): string =>
  `${runId}#${String(batch).padStart(4, '0')}#${String(group).padStart(4, '0')}`;

export const tallySk = (batch: number, group: number): string =>
  `tally#${String(batch).padStart(4, '0')}#${String(group).padStart(4, '0')}`;

/**
 * Per-node states. `pending`: planned and (once its batch is dispatched) sent, not yet acknowledged.
 * `skipped`: in a batch never dispatched because the run stopped early.
 */
export const NODE_STATUSES = [
  'pending',
  'acked',
  'succeeded',
  'failed',
  'timed_out',
  'no_response',
  'rejected',
  'unreachable',
  'cancelled',
  'skipped',
  'late',
] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

/** Every status but the two a node waits in (`pending`, `acked`). */
export const TERMINAL_NODE_STATUSES: ReadonlySet<NodeStatus> = new Set(
  NODE_STATUSES.filter((status) => status !== 'pending' && status !== 'acked'),
);

/** `skipped`: a schedule fired while its previous run was still going (and overlap was not allowed). */
export type RunStatus =
  'running' | 'succeeded' | 'failed' | 'no_match' | 'invalid' | 'error' | 'cancelled' | 'skipped';

export interface RunSummary {
  expected: number;
  /** Hosts that answered at all (acknowledged or rejected). */
  discovered: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  noResponse: number;
  rejected: number;
  unreachable: number;
  skipped: number;
  cancelled: number;
  late: number;
  /** Count of hosts per exit code, as strings for DynamoDB maps. */
  exitCodes: Record<string, number>;
  durationMs: { p50: number; p95: number; max: number } | null;
  /** The run's exit code as documented for the CLI (0–4). */
  exitCode: number;
  stoppedEarly?: string;
}

export interface PhaseTimes {
  startedAt?: number;
  plannedAt?: number;
  firstDispatchAt?: number;
  lastAckAt?: number;
  lastResultAt?: number;
  finishedAt?: number;
}

export interface RunMetaItem extends PhaseTimes {
  runId: string;
  sk: typeof META_SK;
  status: RunStatus;
  action: Action;
  command?: Command;
  filter: FilterSpec;
  options: RunOptions;
  caller: string;
  /** The schedule that started the run, if one did. */
  schedule?: string;
  /** For a `skipped` run: the run of the same schedule that was still going. */
  skippedFor?: string;
  /** The caller's ARN as STS vouched for it (shared/caller-proof.ts); absent when not proven. */
  callerArn?: string;
  createdAt: number;
  expected: number;
  batchCount: number;
  summary?: RunSummary;
  error?: string;
  /** `$$.Execution.StartTime` of the execution that planned the run (its id is that execution's name). */
  executionStart?: string;
  /**
   * Set when CloseBatch gave up on hosts while the replies queue still held messages after its
   * bounded wait for ingest (the largest count over the run's batches): hosts reported
   * `no_response` or `timed_out` may have answered in time.
   */
  repliesQueuedAtClose?: number;
  expiresAt: number;
}

/**
 * A batch: its expected count, which of its dispatch groups have every answer (their tallies hold
 * the node ids), and the task tokens of its two waits. A few hundred bytes whatever the batch's
 * size, so every update of it costs one write unit or two.
 */
export interface BatchItem {
  runId: string;
  sk: string;
  batch: number;
  expected: number;
  /** Dispatch groups of the batch (`groupSk(batch, 0…groupCount-1)`); absent on older runs: one. */
  groupCount?: number;
  /**
   * Groups whose every host answered the acknowledgement wait (acked, rejected or unreachable), and
   * groups whose every host answered and every host that acknowledged reported its result: added
   * when a tally update shows it (a set, so adding twice changes nothing). Absent until the first.
   */
  groupsAcked?: Set<number>;
  groupsDone?: Set<number>;
  ackToken?: string;
  resultToken?: string;
  /** When each wait was released (its token claimed); removed again if the release failed. */
  acksDoneAt?: number;
  resultsDoneAt?: number;
  dispatchedAt?: number;
  /**
   * When the acknowledgement window closed (dispatch + `ackWindowSec`), recorded by CloseBatch
   * before it gives up on anyone: a reply that reached SQS by then is counted, even if recorded later.
   */
  ackWindowEndsAt?: number;
  closedAt?: number;
  expiresAt: number;
}

/**
 * The counting item of one dispatch group: its expected count and one set of node ids per kind of
 * answer (a count is a set's size, so counting the same node again changes nothing). A set is
 * absent until its first member: DynamoDB stores no empty sets. At most 2 × the group's hosts ids
 * (functions/run/ledger-fit.ts keeps that under DynamoDB's 400 KB).
 */
export interface TallyItem {
  /** The group's partition key (`groupPk`). */
  runId: string;
  /** The run's id. */
  run: string;
  sk: string;
  batch: number;
  group: number;
  expected: number;
  /**
   * The members of each kind of answer: the nodes' slots (numbers of 1–3 digits, ~3 bytes each, so
   * a whole group's sets stay under ~3 KB and an update costs 1–3 write units), or their node ids
   * on runs planned before node items had slots.
   */
  ackedBy?: Set<TallyMember>;
  rejectedBy?: Set<TallyMember>;
  doneBy?: Set<TallyMember>;
  unreachableBy?: Set<TallyMember>;
  expiresAt: number;
}

/** What a tally's sets hold for a node: its slot in its group, or (older runs) its node id. */
export type TallyMember = number | string;

/** A node's member of its group's tally sets. */
export const tallyMember = (node: { nodeId: string; slot?: number | undefined }): TallyMember =>
  node.slot ?? node.nodeId;

/** The targets of one dispatch group, written by Plan and read by the Dispatch of that group. */
export interface GroupItem {
  runId: string;
  sk: string;
  batch: number;
  group: number;
  nodeIds: string[];
  expiresAt: number;
}

export interface NodeRunItem {
  /**
   * The item's partition key: its dispatch group's (`groupPk`), or the run's id for runs planned
   * before node items were spread over groups. Pass it as is to the stores' node writes.
   */
  runId: string;
  /** The run's id (absent on runs planned before node items were spread over groups). */
  run?: string;
  sk: string;
  nodeId: string;
  identity: string;
  batch: number;
  /** The node's dispatch group in its batch (absent on runs planned before groups were counted). */
  group?: number;
  /**
   * The node's place in its group's targets (0 to the group's size − 1): what its group's tally
   * counts it as, a number a few bytes long where a node id is ~19 (absent on older runs).
   */
  slot?: number;
  inbox: string;
  status: NodeStatus;
  /** Set by close-batch when it gave up on the node; a result after that is `late`. */
  closed?: boolean;
  /** For a `late` node: what the run had recorded when it gave up on it (`no_response`, `timed_out`). */
  lateAs?: NodeStatus;
  /** Set by Finish on a closed node it counted: a reply after that no longer changes what it is. */
  sealed?: boolean;
  /** For a `late` node: the late reply was recorded after Finish counted the node (as `lateAs`). */
  lateAfterSummary?: boolean;
  exitCode?: number | null;
  signal?: string | null;
  timedOut?: boolean;
  stdout?: CapturedStream;
  stderr?: CapturedStream;
  reason?: string;
  error?: string;
  ackedAt?: number;
  startedAt?: number;
  endedAt?: number;
  resultAt?: number;
  expiresAt: number;
}

/** Item shape of the nodes (facts) table. */
export interface NodeItem {
  nodeId: string;
  identity: string;
  facts: Record<string, unknown>;
  classes: string[];
  /** shared/facts-hash.ts of facts and classes: a heartbeat rewrites them only when it differs. */
  factsHash?: string;
  /** When the heartbeat that carried the stored facts was sent: an older one never replaces them. */
  factsAt?: number;
  inbox: string;
  agentVersion: string;
  /** Auto Scaling group name, when the host belongs to one. */
  asg?: string;
  heartbeatSec: number;
  lastSeen: number;
  joinedAt: number;
  /** Membership (shared/node-status.ts); absent on records older than statuses, meaning active. */
  status?: string;
  /** When the status last changed (ms), and why (`missed 3 heartbeats`, `instance stopped`). */
  statusAt?: number;
  statusReason?: string;
  startedAt: number;
  expiresAt: number;
}
