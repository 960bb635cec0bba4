/**
 * The time one run would take in AWS, modeled (not measured): the per-call latencies of the
 * profile (bench/aws-latency.json) applied to the calls the design makes at N hosts, bounded by
 * AWS's documented concurrency and throughput, phase by phase. Each phase says which limit binds:
 * the calls themselves, or a quota. docs/scale.md has the tables and the sources.
 */
import type { ServiceProfile } from './latency-proxy.ts';
import type { Profile } from './figures.ts';

/** AWS's documented limits the model applies. */
export const AWS_LIMITS = {
  /** Step Functions developer guide, "Using Map state in Inline mode": up to 40 concurrent iterations. */
  inlineMapConcurrency: 40,
  /** Lambda developer guide, "Configuring scaling behavior for SQS event source mappings": five concurrent batches at first… */
  esmStartConcurrency: 5,
  /** …then up to 300 more instances a minute (5 a second), up to 1,000 batches at once. */
  esmRampPerSecond: 300 / 60,
  esmMaxConcurrency: 1_000,
  /** DynamoDB developer guide, partitions: one partition serves at most 1,000 WCU and 3,000 RCU a second. */
  partitionWcuPerSec: 1_000,
  partitionRcuPerSec: 3_000,
  /** DynamoDB on-demand: a new table serves up to 4,000 writes and 12,000 reads a second before it adapts. */
  tableReadUnitsPerSec: 12_000,
} as const;

/** The design's own parameters (the code's constants). */
export const DESIGN = {
  groupSize: 500,
  sendsInFlight: 32,
  ingestBatch: 10,
  scanSegments: 4,
  batchWriteItems: 25,
  batchWritesInFlight: 8,
  /** EC2 instance ids (`i-` and 17 hex digits). */
  nodeIdBytes: 19,
  /** The largest batch whose answer sets fit one item (functions/run/ledger-fit.ts). */
  maxBatchHosts: 10_000,
} as const;

/**
 * `built`: the design as it is. `needed`: with what docs/scale.md says a larger fleet needs, not
 * built: the run's items spread over one partition per dispatch group (`runId#group`), batch
 * counters instead of node id sets (one write unit per update, no 10,000-host batch limit), the
 * event source in provisioned mode (20 pollers kept: 200 instances from the first reply; Lambda
 * developer guide, "each poller … 10 concurrent invokes"), the tables' warm throughput set to
 * 40,000 reads and writes a second (DynamoDB warm throughput), Plan scanning 16 segments and
 * writing 32 batches at once.
 */
export type Variant = 'built' | 'needed';

const NEEDED = {
  provisionedConcurrency: 200,
  tableWcuPerSec: 40_000,
  /** The nodes table warmed to 40,000 reads a second, read by Plan in 16 segments, writing 32 batches at once. */
  tableRcuPerSec: 40_000,
  scanSegments: 16,
  batchWritesInFlight: 32,
} as const;

export interface Phase {
  ms: number;
  /** What sets the phase's time: the calls' latency, or a named quota. */
  bound: string;
}

const at = (p: ServiceProfile, op: string) => {
  const entry = p[op] ?? p.default;
  return typeof entry === 'object' ? entry.ms : 0;
};

/** The slower of the calls' time and a throughput quota's, named. */
function slowest(callsMs: number, quotas: Record<string, number>): Phase {
  let phase: Phase = { ms: callsMs, bound: 'call latency' };
  for (const [name, ms] of Object.entries(quotas)) if (ms > phase.ms) phase = { ms, bound: name };
  return phase;
}

/** Seconds for ingest to take `replies` at `perSecond` each per instance, the event source ramping up. */
export function ingestSeconds(
  replies: number,
  perSecond: number,
  start: number = AWS_LIMITS.esmStartConcurrency,
): number {
  const { esmRampPerSecond: ramp, esmMaxConcurrency: cap } = AWS_LIMITS;
  const c0 = start;
  let done = 0;
  let t = 0;
  for (; done < replies; t += 0.01) done += Math.min(c0 + ramp * t, cap) * perSecond * 0.01;
  return t;
}

/** One batch of `hosts`: dispatch, acknowledgements and results through ingest. */
function batchPhases(hosts: number, p: Profile, firstBatch: boolean, variant: Variant) {
  const { sqs, dynamodb: db, lambda, kms, stepFunctions: sfn } = p;
  const groups = Math.ceil(hosts / DESIGN.groupSize);
  const perGroup = Math.min(hosts, DESIGN.groupSize);
  const groupMs =
    at(lambda, 'invoke') +
    2 * at(db, 'GetItem') +
    Math.ceil(perGroup / 100) * at(db, 'BatchGetItem') +
    at(db, 'UpdateItem') +
    at(kms, 'Sign') +
    Math.ceil(perGroup / DESIGN.sendsInFlight) * at(sqs, 'SendMessage');
  const waves = Math.ceil(groups / AWS_LIMITS.inlineMapConcurrency);
  // Partitions the run's items are spread over: one (the run's id), or one per dispatch group.
  const partitions = variant === 'built' ? 1 : groups;
  const dispatch = slowest(
    2 * at(sfn, 'transition') + (firstBatch ? at(lambda, 'coldStart') : 0) + waves * groupMs,
    // Dispatch reads each target's node item (consistent: 1 RCU).
    { 'run partition reads (3,000 RCU/s)': (hosts / partitions / AWS_LIMITS.partitionRcuPerSec) * 1000 },
  );
  // An ingest invocation: the batch item, the replies' node items (in parallel), the marker sets.
  const invokeMs = at(lambda, 'invoke') + at(db, 'GetItem') + 2 * at(db, 'UpdateItem');
  const replies = 2 * hosts;
  const perInstance = DESIGN.ingestBatch / (invokeMs / 1000);
  // Each marker update rewrites the batch item, whose sets grow to 2 ids a host: on average half
  // (built); a counter update is one unit (needed).
  const markerWcu = variant === 'built' ? Math.ceil((hosts * DESIGN.nodeIdBytes) / 1024) : 1;
  const writeUnits = replies + (replies / DESIGN.ingestBatch) * markerWcu;
  const start = variant === 'built' ? AWS_LIMITS.esmStartConcurrency : NEEDED.provisionedConcurrency;
  const ingest = slowest(ingestSeconds(replies, perInstance, start) * 1000, {
    'run partition writes (1,000 WCU/s)': (writeUnits / partitions / AWS_LIMITS.partitionWcuPerSec) * 1000,
    ...(variant === 'needed'
      ? { 'table warm throughput (40,000 WCU/s)': (writeUnits / NEEDED.tableWcuPerSec) * 1000 }
      : {}),
  });
  const waits = 4 * at(sfn, 'transition') + 2 * at(sfn, 'SendTaskSuccess') + 2 * at(lambda, 'invoke');
  const agentMs = at(sqs, 'ReceiveMessage') + 2 * at(sqs, 'SendMessage');
  return { groups, dispatch, ingest, closeMs: waits + agentMs, writeUnits };
}

/** The modeled phases of one run on `hosts` with facts of `factsBytes` a host on average. */
export function modelRun(hosts: number, factsBytes: number, p: Profile, variant: Variant = 'built') {
  const { dynamodb: db, lambda, stepFunctions: sfn } = p;
  const maxBatch = variant === 'built' ? DESIGN.maxBatchHosts : hosts;
  const sizes: number[] = [];
  for (let left = hosts; left > 0; left -= maxBatch) sizes.push(Math.min(left, maxBatch));
  const partitions = variant === 'built' ? 1 : Math.ceil(hosts / DESIGN.groupSize);
  const pages = Math.ceil((hosts * factsBytes) / 1024 ** 2);
  const items = hosts + sizes.length + Math.ceil(hosts / DESIGN.groupSize) + 1;
  const built = variant === 'built';
  const segments = built ? DESIGN.scanSegments : NEEDED.scanSegments;
  const inFlight = built ? DESIGN.batchWritesInFlight : NEEDED.batchWritesInFlight;
  const readUnitsPerSec = built ? AWS_LIMITS.tableReadUnitsPerSec : NEEDED.tableRcuPerSec;
  const writes = Math.ceil(items / DESIGN.batchWriteItems / inFlight);
  const plan = slowest(
    at(sfn, 'StartExecution') +
      2 * at(sfn, 'transition') +
      at(lambda, 'invoke') +
      Math.ceil(pages / segments) * at(db, 'Scan') +
      writes * at(db, 'BatchWriteItem'),
    {
      // An eventually consistent read unit is 8 KB; every node item of the run is one write unit.
      [`nodes table reads (${readUnitsPerSec.toLocaleString('en-US')} RRU/s)`]:
        ((hosts * factsBytes) / 8192 / readUnitsPerSec) * 1000,
      'run partition writes (1,000 WCU/s)': (items / partitions / AWS_LIMITS.partitionWcuPerSec) * 1000,
    },
  );
  const batches = sizes.map((size, i) => batchPhases(size, p, i === 0, variant));
  const finishMs = 2 * at(sfn, 'transition') + at(lambda, 'invoke') + 2 * at(db, 'Query');
  const totalMs =
    plan.ms + batches.reduce((sum, b) => sum + b.dispatch.ms + b.ingest.ms + b.closeMs, 0) + finishMs;
  return {
    note: 'modeled: profile latencies, the calls the design makes, AWS-documented concurrency and throughput',
    variant,
    batches: sizes.length,
    groups: batches.reduce((sum, b) => sum + b.groups, 0),
    planMs: plan,
    dispatch: batches.map((b) => b.dispatch),
    ingest: batches.map((b) => b.ingest),
    finishMs,
    runPartitionWriteUnits: items + batches.reduce((sum, b) => sum + b.writeUnits, 0),
    endToEndMs: Math.round(totalMs),
  };
}

export type RunModel = ReturnType<typeof modelRun>;
