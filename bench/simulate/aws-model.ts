/**
 * The time one run would take in AWS, modeled (not measured): the per-call latencies of the
 * profile (bench/aws-latency.json) applied to the calls the design makes at N hosts, bounded by
 * AWS's documented concurrency and throughput, phase by phase, for a given layout of the runs
 * table and setting of the event source and tables (`Layout`). Each phase names what binds it:
 * the calls themselves, or a quota. docs/scale.md has the tables and the sources.
 */
import type { ServiceProfile } from './latency-proxy.ts';
import type { Profile } from './figures.ts';

import {
  AS_BUILT,
  AWS_LIMITS,
  DESIGN,
  LAYOUTS,
  PROVISIONED,
  type Layout,
  type LayoutName,
} from './aws-limits.ts';

export * from './aws-limits.ts';

export interface Phase {
  ms: number;
  /** What sets the phase's time: the calls' latency, or a named quota. */
  bound: string;
}

const at = (p: ServiceProfile, op: string) => {
  const entry = p[op] ?? p.default;
  return typeof entry === 'object' ? entry.ms : 0;
};
const fmt = (n: number) => n.toLocaleString('en-US');

/** The slower of the calls' time and a throughput quota's, named. */
function slowest(callsMs: number, quotas: Record<string, number>): Phase {
  let phase: Phase = { ms: callsMs, bound: 'call latency' };
  for (const [name, ms] of Object.entries(quotas)) if (ms > phase.ms) phase = { ms, bound: name };
  return phase;
}

/**
 * Seconds for ingest to take `replies` at `perSecond` each per instance, the event source starting
 * with `start` instances and adding `ramp` a second up to `cap`.
 */
export function ingestSeconds(
  replies: number,
  perSecond: number,
  start: number = AWS_LIMITS.esmStartConcurrency,
  ramp: number = AWS_LIMITS.esmRampPerSecond,
  cap: number = Math.min(AWS_LIMITS.esmMaxConcurrency, AWS_LIMITS.accountConcurrency),
): number {
  let done = 0;
  let t = 0;
  for (; done < replies; t += 0.01) done += Math.min(start + ramp * t, cap) * perSecond * 0.01;
  return t;
}

/**
 * Dispatch groups one ingest invocation updates: its 10 replies come from the groups being
 * dispatched at once (up to 40), at random: G × (1 − (1 − 1/G)^10).
 */
export function groupsPerInvocation(groups: number): number {
  const g = Math.min(groups, AWS_LIMITS.inlineMapConcurrency);
  return g * (1 - (1 - 1 / g) ** DESIGN.ingestBatch);
}

/** Hosts per dispatch group in `layout`. */
const groupSizeOf = (layout: Layout): number => layout.groupSize ?? DESIGN.groupSize;

/** Write units of counting a batch's replies, and where they land. */
export function countingWrites(hosts: number, layout: Layout) {
  const groups = Math.ceil(hosts / groupSizeOf(layout));
  const invocations = (2 * hosts) / DESIGN.ingestBatch;
  // A set update is billed at the larger of the item before and after: on average half the final
  // sets (2 ids a host), rounded up to whole kilobytes.
  const memberBytes = layout.answers === 'slots' ? DESIGN.tallyMemberBytes : DESIGN.nodeIdBytes;
  const setWcu = (members: number) => Math.ceil((members * memberBytes) / 1024);
  if (layout.answers === 'batch') {
    return { updates: invocations, wcu: invocations * setWcu(hosts), onBatchItem: true };
  }
  const updates = invocations * groupsPerInvocation(groups);
  const sets = layout.answers === 'group' || layout.answers === 'slots';
  const perUpdate = sets ? setWcu(Math.min(hosts, groupSizeOf(layout))) : 1;
  // Plus the batch item's set of completed groups, twice a group (acks, results): one unit each.
  return { updates, wcu: updates * perUpdate + 2 * groups, onBatchItem: false };
}

const tableWcu = (l: Layout) =>
  l.warm === 'set' ? PROVISIONED.warmUnitsPerSec : AWS_LIMITS.newTableWcuPerSec;
const tableRcu = (l: Layout) =>
  l.warm === 'set' ? PROVISIONED.warmUnitsPerSec : AWS_LIMITS.newTableRcuPerSec;
const seconds = (units: number, perSecond: number) => (units / perSecond) * 1000;

/** Ingest of one batch's 2 replies a host: the event source's ramp against the partitions' and table's writes. */
function ingestPhase(hosts: number, p: Profile, layout: Layout) {
  const { dynamodb: db, lambda } = p;
  const groups = Math.ceil(hosts / groupSizeOf(layout));
  const replies = 2 * hosts;
  // An invocation: the batch item, the replies' node items and the counts, in parallel.
  const invokeMs = at(lambda, 'invoke') + at(db, 'GetItem') + 2 * at(db, 'UpdateItem');
  const perInstance = DESIGN.ingestBatch / (invokeMs / 1000);
  const counting = countingWrites(hosts, layout);
  const writeUnits = replies + counting.wcu;
  // The busiest partition: the run's (everything), or a group's (its replies and counts), or with
  // sets on the batch item the run's again (the sets) unless a group's replies weigh more.
  const busiest =
    layout.nodes === 'run'
      ? writeUnits
      : counting.onBatchItem
        ? Math.max(counting.wcu, replies / groups)
        : writeUnits / groups;
  const provisioned = layout.pollers === 'provisioned';
  const ingestS = provisioned
    ? ingestSeconds(
        replies,
        perInstance,
        PROVISIONED.minimumPollers * PROVISIONED.invokesPerPoller,
        AWS_LIMITS.provisionedRampPerSecond,
        AWS_LIMITS.accountConcurrency,
      )
    : ingestSeconds(replies, perInstance);
  const partition = layout.nodes === 'run' || counting.onBatchItem ? 'run partition' : 'group partition';
  const phase = slowest(ingestS * 1000, {
    [`${partition} writes (1,000 WCU/s)`]: seconds(busiest, AWS_LIMITS.partitionWcuPerSec),
    [`table writes (${fmt(tableWcu(layout))} WCU/s)`]: seconds(writeUnits, tableWcu(layout)),
  });
  return { phase, writeUnits, busiestPartitionWcu: busiest };
}

/** One batch of `hosts`: dispatch, acknowledgements and results through ingest. */
function batchPhases(hosts: number, p: Profile, firstBatch: boolean, layout: Layout) {
  const { sqs, dynamodb: db, lambda, kms, stepFunctions: sfn } = p;
  const groups = Math.ceil(hosts / groupSizeOf(layout));
  const perGroup = Math.min(hosts, groupSizeOf(layout));
  const groupMs =
    at(lambda, 'invoke') +
    2 * at(db, 'GetItem') +
    Math.ceil(perGroup / 100) * at(db, 'BatchGetItem') +
    at(db, 'UpdateItem') +
    at(kms, 'Sign') +
    Math.ceil(perGroup / DESIGN.sendsInFlight) * at(sqs, 'SendMessage');
  const waves = Math.ceil(groups / AWS_LIMITS.inlineMapConcurrency);
  const partitions = layout.nodes === 'run' ? 1 : groups;
  // Dispatch reads each target's node item (consistent: 1 RCU).
  const dispatch = slowest(
    2 * at(sfn, 'transition') + (firstBatch ? at(lambda, 'coldStart') : 0) + waves * groupMs,
    {
      [`${partitions === 1 ? 'run' : 'group'} partition reads (3,000 RCU/s)`]: seconds(
        hosts / partitions,
        AWS_LIMITS.partitionRcuPerSec,
      ),
      [`table reads (${fmt(tableRcu(layout))} RCU/s)`]: seconds(hosts, tableRcu(layout)),
    },
  );
  const ingest = ingestPhase(hosts, p, layout);
  const waits = 4 * at(sfn, 'transition') + 2 * at(sfn, 'SendTaskSuccess') + 2 * at(lambda, 'invoke');
  const agentMs = at(sqs, 'ReceiveMessage') + 2 * at(sqs, 'SendMessage');
  return { groups, dispatch, ingest, closeMs: waits + agentMs };
}

/** Plan: the nodes table read page by page, the run's items written. */
function planPhase(hosts: number, factsBytes: number, batches: number, p: Profile, layout: Layout) {
  const { dynamodb: db, lambda, stepFunctions: sfn } = p;
  const groups = Math.ceil(hosts / groupSizeOf(layout));
  const pages = Math.ceil((hosts * factsBytes) / 1024 ** 2);
  const tallies = layout.answers === 'batch' ? 0 : groups;
  const items = hosts + batches + groups + tallies + 1;
  const scaled = layout.plan === 'scaled';
  const segments = scaled ? PROVISIONED.scanSegments : DESIGN.scanSegments;
  const inFlight = scaled ? PROVISIONED.batchWritesInFlight : DESIGN.batchWritesInFlight;
  const writes = Math.ceil(items / DESIGN.batchWriteItems / inFlight);
  const busiest = layout.nodes === 'run' ? items : (items - batches - 1) / groups;
  const phase = slowest(
    at(sfn, 'StartExecution') +
      2 * at(sfn, 'transition') +
      at(lambda, 'invoke') +
      Math.ceil(pages / segments) * at(db, 'Scan') +
      writes * at(db, 'BatchWriteItem'),
    {
      // An eventually consistent read unit is 8 KB; every item of the run is one write unit.
      [`nodes table reads (${fmt(tableRcu(layout))} RRU/s)`]: seconds(
        (hosts * factsBytes) / 8192,
        tableRcu(layout),
      ),
      [`${layout.nodes} partition writes (1,000 WCU/s)`]: seconds(busiest, AWS_LIMITS.partitionWcuPerSec),
      [`table writes (${fmt(tableWcu(layout))} WCU/s)`]: seconds(items, tableWcu(layout)),
    },
  );
  return { phase, items, busiestPartitionWcu: busiest };
}

/** The modeled phases of one run on `hosts` with facts of `factsBytes` a host on average. */
export function modelRun(hosts: number, factsBytes: number, p: Profile, layout: Layout = LAYOUTS[AS_BUILT]) {
  const { dynamodb: db, lambda, stepFunctions: sfn } = p;
  const maxBatch = layout.answers === 'batch' ? DESIGN.maxBatchHosts : hosts;
  const sizes: number[] = [];
  for (let left = hosts; left > 0; left -= maxBatch) sizes.push(Math.min(left, maxBatch));
  const plan = planPhase(hosts, factsBytes, sizes.length, p, layout);
  const batches = sizes.map((size, i) => batchPhases(size, p, i === 0, layout));
  const finishMs = 2 * at(sfn, 'transition') + at(lambda, 'invoke') + 2 * at(db, 'Query');
  const totalMs =
    plan.phase.ms +
    batches.reduce((sum, b) => sum + b.dispatch.ms + b.ingest.phase.ms + b.closeMs, 0) +
    finishMs;
  return {
    note: 'modeled: profile latencies, the calls the design makes, AWS-documented concurrency and throughput',
    layout,
    batches: sizes.length,
    groups: batches.reduce((sum, b) => sum + b.groups, 0),
    planMs: plan.phase,
    dispatch: batches.map((b) => b.dispatch),
    ingest: batches.map((b) => b.ingest.phase),
    finishMs,
    writeUnits: plan.items + batches.reduce((sum, b) => sum + b.ingest.writeUnits, 0),
    busiestPartitionWriteUnits: Math.round(
      plan.busiestPartitionWcu + batches.reduce((sum, b) => sum + b.ingest.busiestPartitionWcu, 0),
    ),
    endToEndMs: Math.round(totalMs),
  };
}

export type RunModel = ReturnType<typeof modelRun>;

/** The run modeled in every tabulated layout, by name. */
export function modelLayouts(hosts: number, factsBytes: number, p: Profile): Record<LayoutName, RunModel> {
  const out = {} as Record<LayoutName, RunModel>;
  for (const name of Object.keys(LAYOUTS) as LayoutName[])
    out[name] = modelRun(hosts, factsBytes, p, LAYOUTS[name]);
  return out;
}
