/**
 * The wire formats of drover: what the CLI starts a run with, what dispatch sends to an agent's
 * inbox, and what agents send back on the replies queue. Every reader parses with these schemas;
 * anything that fails is rejected with the reason, never trusted.
 */
import { z } from 'zod';
import { DEFAULT_STALE_AFTER_HEARTBEATS } from './freshness.ts';
import { GROUP_NAME, GROUP_NAME_RULE } from './fleet-file/group-name.ts';
import { SCHEDULE_NAME_PATTERN } from './schedule/names.ts';
import { RUN_ID_PATTERN } from './run-errors.ts';
import { MAX_DISCOVERY_TIMEOUT_SEC, ttlProblem } from './request-expiry.ts';
import { targetProofSchema, targetTreeSchema } from './target-tree.ts';

export const MESSAGE_VERSION = 1;

export const commandSchema = z.union([
  z.object({ shell: z.string().min(1, 'command is empty') }).strict(),
  z.object({ argv: z.array(z.string()).min(1, 'argv is empty') }).strict(),
]);
export type Command = z.infer<typeof commandSchema>;

/**
 * `exec` runs the command, `ping` answers without running anything, `cancel` stops the command a
 * host is running for the same run and batch (and keeps it from starting if it has not yet).
 */
export const actionSchema = z.enum(['exec', 'ping', 'cancel']);
export type Action = z.infer<typeof actionSchema>;

/** The filter as the operator gave it: each list ANDs with the others (see shared/filter). */
export const filterSpecSchema = z
  .object({
    with: z.array(z.string()).default([]),
    fact: z.array(z.string()).default([]),
    class: z.array(z.string()).default([]),
    identity: z.array(z.string()).default([]),
    select: z.string().optional(),
  })
  .strict();
export type FilterSpec = z.infer<typeof filterSpecSchema>;

/** A number of hosts, absolute (`10`) or a share of the hosts in play (`"25%"`). */
export const percentageSchema = z
  .string()
  .regex(/^(100|[1-9]?[0-9])%$/, 'a percentage is written like "25%" (0–100)');
export const hostCountSchema = z.union([z.number().int().min(0), percentageSchema]);
export type HostCount = z.infer<typeof hostCountSchema>;

/**
 * Resolves a host count against `total` hosts. Percentages round up for sizes (at least 1 host
 * when total > 0) and down for thresholds.
 */
export function resolveHostCount(value: HostCount, total: number, rounding: 'up' | 'down'): number {
  if (typeof value === 'number') return value;
  const share = (Number(value.slice(0, -1)) / 100) * total;
  return rounding === 'up'
    ? Math.min(total, Math.max(total > 0 ? 1 : 0, Math.ceil(share)))
    : Math.floor(share);
}

export const runOptionsSchema = z
  .object({
    /** Seconds a command may run on a host before it is killed. */
    timeoutSec: z.number().int().min(1).max(86_400).default(60),
    /** Seconds to wait for agents to acknowledge a request. */
    discoveryTimeoutSec: z.number().int().min(1).max(MAX_DISCOVERY_TIMEOUT_SEC).default(10),
    /**
     * Seconds a request stays valid; an agent refuses it after that. Defaults to (and may not be
     * longer than) the discovery timeout + 1 s (shared/request-expiry.ts).
     */
    ttlSec: z.number().int().min(1).max(86_400).optional(),
    /** Hosts per batch, or a share of the targets; undefined = one batch. */
    batchSize: z.union([z.number().int().min(1), percentageSchema]).optional(),
    batchSleepSec: z.number().int().min(0).max(3_600).default(0),
    /** Stop dispatching further batches once this many hosts failed; undefined = never stop. */
    maxErrors: hostCountSchema.optional(),
    /** Explicit identities (or node ids) to address directly instead of discovering. */
    nodes: z.array(z.string().min(1)).optional(),
    /** A random subset of the matching hosts: a number or a share. */
    limit: z.union([z.number().int().min(1), percentageSchema]).optional(),
    /** Seed for the random subset, so a limited run can be repeated on the same hosts. */
    limitSeed: z.string().min(1).optional(),
    /**
     * The `index`th host (from 0) of a group, its hosts ordered by when they joined, then identity:
     * `drover run --group nucleus --ordinal 0`. Stable while the group's membership is.
     */
    ordinal: z
      .object({ group: z.string().regex(GROUP_NAME, GROUP_NAME_RULE), index: z.number().int().min(0) })
      .strict()
      .optional(),
    /** Heartbeat intervals after which a silent node is no longer discovered. */
    staleAfterHeartbeats: z.number().int().min(1).default(DEFAULT_STALE_AFTER_HEARTBEATS),
  })
  .strict();
export type RunOptions = z.infer<typeof runOptionsSchema>;

/**
 * A signed, unsent STS GetCallerIdentity request for one run (shared/caller-proof.ts): Plan sends
 * it to STS to learn who started the run. Never stored or logged.
 */
export const callerProofSchema = z
  .object({
    url: z.string().url().max(2048),
    headers: z.record(z.string(), z.string().max(4096)),
    body: z.string().max(1024),
  })
  .strict();
export type CallerProof = z.infer<typeof callerProofSchema>;

/**
 * The schedule a run came from. Unless `allowOverlap`, a fire while the schedule's previous run is
 * still going is skipped (recorded as a `skipped` run, `Scheduled Run Skipped` on the bus).
 */
export const scheduleRefSchema = z
  .object({
    name: z.string().regex(SCHEDULE_NAME_PATTERN, 'a schedule name is 1-64 of A-Z a-z 0-9 - _ .'),
    allowOverlap: z.boolean().default(false),
  })
  .strict();
export type ScheduleRef = z.infer<typeof scheduleRefSchema>;

const runIdSchema = z
  .string()
  .regex(RUN_ID_PATTERN, 'a run id is an execution name: 1 to 80 letters, digits, "-" or "_"');

const runRequestShape = {
  runId: runIdSchema,
  action: actionSchema.default('exec'),
  command: commandSchema.optional(),
  filter: filterSpecSchema.default({ with: [], fact: [], class: [], identity: [] }),
  options: runOptionsSchema.default(runOptionsSchema.parse({})),
  caller: z.string().default('unknown'),
  callerProof: callerProofSchema.optional(),
  /** Set when a schedule started the run: recorded on it (`drover runs --schedule`). */
  schedule: scheduleRefSchema.optional(),
};

/** `--ttl` may only shorten a request's life (it ends with its acknowledgement window). */
function ttlWithinWindow(r: { options: RunOptions }, ctx: z.RefinementCtx): void {
  const problem = ttlProblem(r.options);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, path: ['options', 'ttlSec'] });
}

const execNeedsCommand = {
  check: (r: { action: string; command?: unknown }) => r.action !== 'exec' || r.command !== undefined,
  message: { message: 'an exec request needs a command', path: ['command'] },
};

/** A run request with its id: what the CLI starts the `run` state machine with. */
export const runRequestSchema = z
  .object(runRequestShape)
  .strict()
  .refine(execNeedsCommand.check, execNeedsCommand.message)
  .superRefine(ttlWithinWindow);
export type RunRequest = z.infer<typeof runRequestSchema>;
export type RunRequestInput = z.input<typeof runRequestSchema>;

/**
 * The input of the `run` state machine: a request whose `runId` may be left out, since a run's id
 * is its execution's name (a schedule's or a lifecycle hook's fixed input has none).
 */
export const runInputSchema = z
  .object({ ...runRequestShape, runId: runIdSchema.optional() })
  .strict()
  .refine(execNeedsCommand.check, execNeedsCommand.message)
  .superRefine(ttlWithinWindow);
export type RunInput = z.infer<typeof runInputSchema>;

/** A dispatch group's index in its batch (functions/run/dispatch-groups.ts: at most 200). */
const groupSchema = z.number().int().min(0).max(9_999);

/**
 * The part of a request that is signed: common to every target of one dispatch group, so one
 * signature (one KMS call in AWS) covers many hosts. It names its targets in one of two ways:
 * `targetTree`, the root of a Merkle tree of their node ids, each host's message carrying its
 * inclusion proof (what Dispatch sends: shared/target-tree.ts), or `targets`, the list itself
 * (what Dispatch sent before; agents still accept it). Agents check they are among them.
 */
export const signedRequestSchema = z
  .object({
    v: z.literal(MESSAGE_VERSION),
    runId: z.string().min(1),
    batch: z.number().int().min(0),
    /**
     * The dispatch group of the batch the targets belong to: agents echo it in their replies, so
     * ingest counts each reply on its group's tally. Optional: documents signed before it existed.
     */
    group: groupSchema.optional(),
    action: actionSchema,
    command: commandSchema.optional(),
    timeoutSec: z.number().int().min(1),
    issuedAt: z.number().int(),
    expiresAt: z.number().int(),
    filter: filterSpecSchema,
    targets: z.array(z.string().min(1)).min(1).optional(),
    targetTree: targetTreeSchema.optional(),
    caller: z.string(),
    /**
     * The key that signed this document (the KMS key ARN, or `file:<path>` locally), inside the
     * signed bytes: an agent pinned to another key refuses it by name rather than as a bad
     * signature. Optional so documents signed before it existed still verify.
     */
    keyId: z.string().min(1).optional(),
    /** Who started the run as STS vouched for it to Plan (absent when not proven). */
    callerArn: z.string().min(1).optional(),
  })
  .strict()
  .refine((r) => (r.targets === undefined) !== (r.targetTree === undefined), {
    message: 'a signed request names its targets once: a targets list or a targetTree',
    path: ['targets'],
  });
export type SignedRequest = z.infer<typeof signedRequestSchema>;

export const signatureSchema = z
  .object({
    keyId: z.string().min(1),
    alg: z.literal('ECDSA_SHA_256'),
    /** Base64 of the DER-encoded ECDSA signature, as KMS Sign returns it. */
    value: z.string().min(1),
  })
  .strict();
export type Signature = z.infer<typeof signatureSchema>;

/** What lands in an agent's inbox: the signed document, verbatim, plus the addressee. */
export const inboxMessageSchema = z
  .object({
    v: z.literal(MESSAGE_VERSION),
    nodeId: z.string().min(1),
    /** JSON of a SignedRequest, exactly the bytes that were signed. */
    request: z.string().min(2),
    signature: signatureSchema,
    /** This host's place in the signed `targetTree`; absent when the document lists its targets. */
    targetProof: targetProofSchema.optional(),
  })
  .strict();
export type InboxMessage = z.infer<typeof inboxMessageSchema>;

const factsSchema = z.record(z.string(), z.unknown());

/** Longest node id and identity a host may give: they key DynamoDB items and name queues. */
export const MAX_NAME_LENGTH = 256;

const replyBase = {
  v: z.literal(MESSAGE_VERSION),
  nodeId: z.string().min(1).max(MAX_NAME_LENGTH),
  identity: z.string().min(1).max(MAX_NAME_LENGTH),
  sentAt: z.number().int(),
};

/**
 * The most a host's facts and classes may take in its heartbeat, as JSON: the heartbeat has to
 * fit one SQS message (256 KiB) and the host's record one DynamoDB item (400 KB).
 */
export const MAX_FACTS_BYTES = 200 * 1024;

/** Bytes the facts and classes take in a heartbeat. */
export function factsSize(facts: Record<string, unknown>, classes: readonly string[]): number {
  return Buffer.byteLength(JSON.stringify({ facts, classes }));
}

/**
 * How deep facts may nest: a DynamoDB item nests at most 32 levels, and the facts map is already
 * one level into the host's record. Deeper facts would make every heartbeat fail to record (and
 * fill the dead-letter queue), so they are refused with the reason instead.
 */
export const MAX_FACTS_DEPTH = 24;

/** How deeply `value` nests (a scalar is 0, `{a: 1}` is 1); counted without recursion. */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Why facts and classes cannot go in a heartbeat (too big, too deep), or undefined. */
export function factsProblem(facts: Record<string, unknown>, classes: readonly string[]): string | undefined {
  const size = factsSize(facts, classes);
  if (size > MAX_FACTS_BYTES) {
    return `facts and classes take ${size} bytes as JSON, more than the ${MAX_FACTS_BYTES} a host may have`;
  }
  const depth = nestingDepth(facts);
  if (depth > MAX_FACTS_DEPTH)
    return `facts nest ${depth} levels deep, more than the ${MAX_FACTS_DEPTH} a host may have`;
  return undefined;
}

export const heartbeatReplySchema = z
  .object({
    ...replyBase,
    type: z.literal('heartbeat'),
    inbox: z.string().min(1),
    facts: factsSchema,
    classes: z.array(z.string()),
    agentVersion: z.string(),
    heartbeatSec: z.number().int().min(1),
    startedAt: z.number().int(),
  })
  .strict()
  .superRefine((hb, ctx) => {
    const problem = factsProblem(hb.facts, hb.classes);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['facts'], message: problem });
  });

/**
 * The run a reply answers: its batch and (echoed from the signed request) its dispatch group, which
 * agents older than groups do not send: then ingest finds the group on the node's record.
 */
const replyRun = {
  runId: z.string().min(1),
  batch: z.number().int().min(0),
  group: groupSchema.optional(),
};

export const ackReplySchema = z.object({ ...replyBase, type: z.literal('ack'), ...replyRun }).strict();

export const rejectedReplySchema = z
  .object({
    ...replyBase,
    type: z.literal('rejected'),
    ...replyRun,
    reason: z.string(),
  })
  .strict();

export const streamSchema = z
  .object({
    /** Head and tail of the stream when truncated, the whole stream otherwise. */
    text: z.string(),
    bytes: z.number().int().min(0),
    truncated: z.boolean(),
  })
  .strict();
export type CapturedStream = z.infer<typeof streamSchema>;

export const resultReplySchema = z
  .object({
    ...replyBase,
    type: z.literal('result'),
    ...replyRun,
    /** Exit code, or null when the process ended by a signal or never started. */
    exitCode: z.number().int().nullable(),
    signal: z.string().nullable(),
    timedOut: z.boolean(),
    /** The command was stopped by `drover cancel`. */
    cancelled: z.boolean().optional(),
    stdout: streamSchema,
    stderr: streamSchema,
    startedAt: z.number().int(),
    endedAt: z.number().int(),
    /** Why the command could not run or finish normally, when it could not. */
    error: z.string().optional(),
  })
  .strict();

export const replySchema = z.discriminatedUnion('type', [
  heartbeatReplySchema,
  ackReplySchema,
  rejectedReplySchema,
  resultReplySchema,
]);
export type Reply = z.infer<typeof replySchema>;
export type HeartbeatReply = z.infer<typeof heartbeatReplySchema>;
export type AckReply = z.infer<typeof ackReplySchema>;
export type RejectedReply = z.infer<typeof rejectedReplySchema>;
export type ResultReply = z.infer<typeof resultReplySchema>;

/** One line per problem, `path: message`, for errors shown to operators and logs. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
