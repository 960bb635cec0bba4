/**
 * The monthly AWS bill of a drover stage, from a fleet size and how it is used. Pure arithmetic:
 * every assumption and every price is a named input with a flag (parameters.ts), printed next to
 * the estimate. The message and request counts follow the code paths of a run and of the stack's
 * standing work (docs/architecture.md): they lean to the worst case where AWS batching could
 * lower them (stated per assumption).
 */
import type { Assumptions, Prices } from './parameters.ts';
import { oneTimeLines, pollerHours, tallyWriteUnits, type OneTimeLine } from './large-fleet.ts';

export type { OneTimeLine } from './large-fleet.ts';

export * from './parameters.ts';

export const DAYS_PER_MONTH = 30;
const SECONDS_PER_MONTH = DAYS_PER_MONTH * 24 * 3600;
/** Size of a node item of a run without its output, and of a request or reply without output. */
const NODE_ITEM_KB = 0.5;
const MESSAGE_KB = 1;
/** SQS bills each 64 KB chunk of a payload as one request. */
const SQS_CHUNK_KB = 64;
/** Hosts per signature: dispatch signs once per group of this many targets. */
const SIGNING_GROUP = 500;
/** EventBridge Scheduler invocations free each month (its free tier). */
const SCHEDULER_FREE_INVOCATIONS = 14_000_000;
/** Lambda's SQS event source long-polls (20 s) with this many pollers when idle. */
const EVENT_SOURCE_POLL_SECONDS = 20;
/** The reaper runs every minute (serverless.yml `rate(1 minute)`). */
const REAPER_RUNS_PER_MONTH = DAYS_PER_MONTH * 24 * 60;
/**
 * The stack's CloudWatch alarms (serverless.yml: replies DLQ not empty, replies refused, run
 * executions failed); the packaging test checks the template has exactly this many.
 */
export const STACK_ALARMS = 3;
/** Functions a `Run Completed` event invokes: recordEvent (the event log) and lifecycleRunDone. */
const RUN_EVENT_TARGETS = 2;
const KB_PER_GB = 1024 * 1024;

export interface CostLine {
  service: string;
  item: string;
  quantity: number;
  unit: string;
  monthlyUsd: number;
}

export interface CostEstimate {
  lines: CostLine[];
  byService: Record<string, number>;
  totalMonthlyUsd: number;
  /** Paid once, outside the monthly total: the tables' warm throughput when it is raised. */
  oneTime: OneTimeLine[];
  oneTimeUsd: number;
}

/** The per-month counts the estimate is built from (exported for tests and the docs). */
export function monthlyUsage(a: Assumptions) {
  const followedRuns = a.runsPerDay * DAYS_PER_MONTH;
  const scheduledRuns = a.scheduledRunsPerDay * DAYS_PER_MONTH;
  const runs = followedRuns + scheduledRuns;
  const hostRuns = runs * a.hostsPerRun;
  const batches = runs * a.batchesPerRun;
  const heartbeats = (a.hosts * SECONDS_PER_MONTH) / a.heartbeatSeconds;
  const nodeItemKb = NODE_ITEM_KB + a.outputKb;
  const resultChunks = Math.ceil((MESSAGE_KB + a.outputKb) / SQS_CHUNK_KB);
  const replyReceives = 2 / a.repliesPerIngest; // receive + delete, shared by the replies of one batch
  const watchPolls = a.watchSeconds * 10;
  const lambda = {
    runInvocations: runs * 2 + batches * 4,
    ingestInvocations: (heartbeats + hostRuns * 2) / a.repliesPerIngest,
    eventInvocations: runs * RUN_EVENT_TARGETS,
    reaperInvocations: REAPER_RUNS_PER_MONTH,
  };
  const logGb = (invocations: number) => (invocations * a.logKbPerInvocation) / KB_PER_GB;
  return {
    runs,
    hostRuns,
    batches,
    heartbeats,
    sqs: {
      idlePolls: (a.hosts * SECONDS_PER_MONTH) / a.pollSeconds,
      // In provisioned mode the minimum pollers long-poll it instead (each taken to poll as one).
      eventSourcePolls:
        ((a.ingestMinPollers > 0 ? a.ingestMinPollers : a.ingestPollers) * SECONDS_PER_MONTH) /
        EVENT_SOURCE_POLL_SECONDS,
      heartbeat: heartbeats * (1 + replyReceives),
      // request sent, received and deleted by the agent; ack and result sent; both consumed by ingest.
      perHostRun: hostRuns * (3 + 1 + resultChunks + 2 * replyReceives),
    },
    dynamo: dynamoUsage(a, { runs, followedRuns, hostRuns, batches, heartbeats, nodeItemKb, watchPolls }),
    // Plan, HasTargets, Finish; per batch Dispatch, AwaitAcks, AwaitResults, CloseBatch, MoreBatches.
    transitions: runs * 3 + batches * 5,
    lambda,
    pollerHours: pollerHours(a, runs),
    // Ingested in the month; kept 30 days (serverless.yml logRetentionInDays), so about as much
    // is stored at any time.
    logs: {
      runGb: logGb(lambda.runInvocations + lambda.ingestInvocations + lambda.eventInvocations),
      reaperGb: logGb(lambda.reaperInvocations),
    },
    kms: {
      signs: batches * Math.ceil(a.hostsPerRun / a.batchesPerRun / SIGNING_GROUP),
      // Agents fetch the public key when they start: assume a restart a day.
      publicKeys: a.hosts * DAYS_PER_MONTH,
    },
    events: runs,
    scheduleInvocations: scheduledRuns,
  };
}

/** The DynamoDB requests of a month (write and read units), and what is stored. */
function dynamoUsage(
  a: Assumptions,
  n: {
    runs: number;
    followedRuns: number;
    hostRuns: number;
    batches: number;
    heartbeats: number;
    nodeItemKb: number;
    watchPolls: number;
  },
) {
  const { runs, followedRuns, hostRuns, batches, heartbeats, nodeItemKb, watchPolls } = n;
  // The whole nodes table, facts included (a scan bills every item it reads, whatever it projects).
  const fleetScanReads = Math.ceil((a.hosts * (a.factsKb + NODE_ITEM_KB)) / 4) * 0.5;
  return {
    // DynamoDB bills an UpdateItem by the larger of the item's sizes before and after, however
    // few attributes it sets (Developer Guide, "Capacity unit consumption for write
    // operations"): the liveness-only write of an unchanged heartbeat costs the whole item.
    // A change adds the refused liveness attempt (a failed conditional write is billed too).
    heartbeatWrites: heartbeats * Math.ceil(a.factsKb + NODE_ITEM_KB),
    factsChangeWrites:
      Math.min(heartbeats, a.hosts * a.factsChangesPerDay * DAYS_PER_MONTH) *
      Math.ceil(a.factsKb + NODE_ITEM_KB),
    // plan: meta, batch and node items, plannedAt; dispatch: dispatchedAt (+ firstDispatchAt once);
    // two waits store and release their token; close; finish writes the summary; the event log
    // keeps the Run Completed event (one item under 1 KB).
    runWrites: runs * 6 + batches * 7 + hostRuns * 1,
    // ack moves the node item, the result stores output.
    replyWrites: hostRuns * (1 + Math.ceil(nodeItemKb)),
    // each ingest invocation adds its replies to its dispatch group's tally item (large-fleet.ts).
    tallyWrites: tallyWriteUnits(a, batches),
    // plan scans the facts table (eventually consistent: half a unit per 4 KB).
    planReads: runs * fleetScanReads,
    // dispatch, close and finish query the run's node items (strongly consistent).
    runReads: runs * 4 + batches * 4 + Math.ceil((hostRuns * (NODE_ITEM_KB * 2 + nodeItemKb)) / 4),
    // drover run, every 0.1 s at most: the run record (1 RRU, strongly) and the results index
    // (keys only, ½ RRU); each landed host once (BatchGet, strongly); the whole run once at the
    // end. Scheduled runs have nobody following them.
    watchReads:
      followedRuns *
      (watchPolls * 1.5 +
        a.hostsPerRun * Math.ceil(nodeItemKb / 4) +
        Math.ceil((a.hostsPerRun * nodeItemKb) / 4) +
        1),
    // the reaper scans the nodes table every minute for silent hosts.
    reaperReads: REAPER_RUNS_PER_MONTH * fleetScanReads,
    storageGb: (hostRuns * nodeItemKb + a.hosts * a.factsKb) / KB_PER_GB,
  };
}

type Usage = ReturnType<typeof monthlyUsage>;

/** Prices a quantity: the helpers each group of lines uses. */
function pricing(a: Assumptions, p: Prices) {
  const gbSeconds = (invocations: number) => invocations * (a.lambdaMemoryMb / 1024) * (a.lambdaMs / 1000);
  return {
    sqs: (quantity: number) => (quantity / 1e6) * p.sqsPerMillion,
    writes: (quantity: number) => (quantity / 1e6) * p.ddbWritePerMillion,
    reads: (quantity: number) => (quantity / 1e6) * p.ddbReadPerMillion,
    lambda: (invocations: number) =>
      (invocations / 1e6) * p.lambdaPerMillion + gbSeconds(invocations) * p.lambdaPerGbSecond,
    logs: (gb: number) => gb * (p.logsPerGb + p.logsStoragePerGb),
  };
}

function line(service: string, item: string, quantity: number, unit: string, monthlyUsd: number): CostLine {
  return { service, item, quantity: Math.round(quantity * 1000) / 1000, unit, monthlyUsd };
}

function sqsLines(u: Usage, c: ReturnType<typeof pricing>): CostLine[] {
  return [
    line(
      'SQS',
      'agent long polls (empty receives, worst case)',
      u.sqs.idlePolls,
      'requests',
      c.sqs(u.sqs.idlePolls),
    ),
    line(
      'SQS',
      'replies-queue event source polls',
      u.sqs.eventSourcePolls,
      'requests',
      c.sqs(u.sqs.eventSourcePolls),
    ),
    line('SQS', 'heartbeats (send, receive, delete)', u.sqs.heartbeat, 'requests', c.sqs(u.sqs.heartbeat)),
    line('SQS', 'runs: request, ack, result per host', u.sqs.perHostRun, 'requests', c.sqs(u.sqs.perHostRun)),
  ];
}

function dynamoLines(u: Usage, c: ReturnType<typeof pricing>, p: Prices): CostLine[] {
  const d = u.dynamo;
  return [
    line(
      'DynamoDB',
      'heartbeat writes (liveness; the whole item is billed)',
      d.heartbeatWrites,
      'WRU',
      c.writes(d.heartbeatWrites),
    ),
    line(
      'DynamoDB',
      'facts changes (one more write each)',
      d.factsChangeWrites,
      'WRU',
      c.writes(d.factsChangeWrites),
    ),
    line('DynamoDB', 'run records (plan, waits, close, finish)', d.runWrites, 'WRU', c.writes(d.runWrites)),
    line('DynamoDB', 'acks and results', d.replyWrites, 'WRU', c.writes(d.replyWrites)),
    line(
      'DynamoDB',
      "answer sets (each reply call rewrites its dispatch group's tally item, whole)",
      d.tallyWrites,
      'WRU',
      c.writes(d.tallyWrites),
    ),
    line('DynamoDB', 'discovery scans', d.planReads, 'RRU', c.reads(d.planReads)),
    line('DynamoDB', 'run steps reading node items', d.runReads, 'RRU', c.reads(d.runReads)),
    line('DynamoDB', 'drover run following results', d.watchReads, 'RRU', c.reads(d.watchReads)),
    line('DynamoDB', 'reaper scans (every minute)', d.reaperReads, 'RRU', c.reads(d.reaperReads)),
    line('DynamoDB', 'storage (30-day retention)', d.storageGb, 'GB-month', d.storageGb * p.ddbStoragePerGb),
  ];
}

function computeLines(u: Usage, c: ReturnType<typeof pricing>, p: Prices): CostLine[] {
  const l = u.lambda;
  return [
    line(
      'Step Functions',
      'state transitions',
      u.transitions,
      'transitions',
      (u.transitions / 1000) * p.sfnPerThousand,
    ),
    line('Lambda', 'run steps', l.runInvocations, 'invocations', c.lambda(l.runInvocations)),
    line('Lambda', 'ingest', l.ingestInvocations, 'invocations', c.lambda(l.ingestInvocations)),
    line(
      'Lambda',
      'Run Completed targets (event log, lifecycle)',
      l.eventInvocations,
      'invocations',
      c.lambda(l.eventInvocations),
    ),
    line(
      'Lambda',
      'reaper (every minute)',
      l.reaperInvocations,
      'invocations',
      c.lambda(l.reaperInvocations),
    ),
    line(
      'Lambda',
      'provisioned event pollers on the replies queue (the minimum, always on)',
      u.pollerHours.standing,
      'EPU-hours',
      u.pollerHours.standing * p.eventPollerHour,
    ),
    line(
      'Lambda',
      'provisioned event pollers scaling for runs',
      u.pollerHours.scaling,
      'EPU-hours',
      u.pollerHours.scaling * p.eventPollerHour,
    ),
    line('CloudWatch', 'function logs of runs and replies', u.logs.runGb, 'GB', c.logs(u.logs.runGb)),
    line('CloudWatch', 'function logs of the reaper', u.logs.reaperGb, 'GB', c.logs(u.logs.reaperGb)),
    line('CloudWatch', 'alarms', STACK_ALARMS, 'alarms', STACK_ALARMS * p.alarmPerMonth),
  ];
}

function keyAndEventLines(u: Usage, p: Prices): CostLine[] {
  return [
    line(
      'KMS',
      'Sign (once per batch and 500 hosts)',
      u.kms.signs,
      'requests',
      (u.kms.signs / 1e4) * p.kmsPer10k,
    ),
    line(
      'KMS',
      'GetPublicKey (agent starts)',
      u.kms.publicKeys,
      'requests',
      (u.kms.publicKeys / 1e4) * p.kmsPer10k,
    ),
    line('KMS', 'signing key', 1, 'key-month', p.kmsKeyPerMonth),
    line('EventBridge', 'Run Completed events', u.events, 'events', (u.events / 1e6) * p.eventsPerMillion),
    line(
      'EventBridge Scheduler',
      'schedule invocations (14 million free a month)',
      u.scheduleInvocations,
      'invocations',
      (Math.max(0, u.scheduleInvocations - SCHEDULER_FREE_INVOCATIONS) / 1e6) * p.schedulerPerMillion,
    ),
  ];
}

/** The monthly estimate, line by line. */
export function estimateMonthlyCost(a: Assumptions, p: Prices): CostEstimate {
  const u = monthlyUsage(a);
  const c = pricing(a, p);
  const lines = [
    ...sqsLines(u, c),
    ...dynamoLines(u, c, p),
    ...computeLines(u, c, p),
    ...keyAndEventLines(u, p),
  ];
  const byService: Record<string, number> = {};
  for (const l of lines) byService[l.service] = (byService[l.service] ?? 0) + l.monthlyUsd;
  const oneTime = oneTimeLines(a, p);
  return {
    lines,
    byService,
    totalMonthlyUsd: lines.reduce((sum, l) => sum + l.monthlyUsd, 0),
    oneTime,
    oneTimeUsd: oneTime.reduce((sum, l) => sum + l.usd, 0),
  };
}
