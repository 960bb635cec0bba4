/**
 * The monthly AWS bill of a drover stage, from a fleet size and how it is used. Pure arithmetic:
 * every assumption and every price is a named input with a flag, printed next to the estimate.
 * The message and request counts follow the code paths of a run (docs/architecture.md): they
 * lean to the worst case where AWS batching could lower them (stated per assumption).
 */

export interface Parameter {
  key: string;
  /** The `drover cost` flag that overrides it. */
  flag: string;
  value: number;
  unit: string;
  meaning: string;
}

/** List prices in us-east-1, read from the AWS pricing pages on this date. */
export const PRICES_AS_OF = '2026-06-13';
export const PRICES_REGION = 'us-east-1';

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

export const ASSUMPTIONS = [
  { key: 'hosts', flag: '--hosts', value: 100, unit: 'hosts', meaning: 'hosts running the agent' },
  {
    key: 'pollSeconds',
    flag: '--poll-seconds',
    value: 20,
    unit: 's',
    meaning: 'agent long-poll wait; every idle poll is one billed empty receive (worst case: always idle)',
  },
  {
    key: 'heartbeatSeconds',
    flag: '--heartbeat-seconds',
    value: 300,
    unit: 's',
    meaning: 'agent heartbeat interval (one reply and one nodes-table write each; the agent default)',
  },
  {
    key: 'factsChangesPerDay',
    flag: '--facts-changes-per-day',
    value: 1,
    unit: 'changes/day',
    meaning:
      "times a host's facts or classes change a day (an agent restart counts): each costs one more write; facts that change every heartbeat (uptime, load) cost it every heartbeat",
  },
  {
    key: 'runsPerDay',
    flag: '--runs-per-day',
    value: 50,
    unit: 'runs/day',
    meaning: 'runs started per day (ping included)',
  },
  {
    key: 'scheduledRunsPerDay',
    flag: '--scheduled-runs-per-day',
    value: 0,
    unit: 'runs/day',
    meaning:
      'runs started by schedules per day, besides --runs-per-day (24 for an hourly schedule); each is a run like the others, plus a Scheduler invocation',
  },
  {
    key: 'hostsPerRun',
    flag: '--hosts-per-run',
    value: 100,
    unit: 'hosts/run',
    meaning: 'hosts targeted by an average run (default: the whole fleet)',
  },
  {
    key: 'batchesPerRun',
    flag: '--batches-per-run',
    value: 1,
    unit: 'batches/run',
    meaning: 'batches per run (--batch)',
  },
  {
    key: 'outputKb',
    flag: '--output-kb',
    value: 1,
    unit: 'KB',
    meaning: 'stdout + stderr kept per host per run (capped at 128 KB)',
  },
  { key: 'factsKb', flag: '--facts-kb', value: 2, unit: 'KB', meaning: "size of a host's facts item" },
  {
    key: 'lambdaMemoryMb',
    flag: '--lambda-memory-mb',
    value: 256,
    unit: 'MB',
    meaning: 'memory of the control-plane functions (serverless.yml; plan and dispatch have 512)',
  },
  {
    key: 'lambdaMs',
    flag: '--lambda-ms',
    value: 100,
    unit: 'ms',
    meaning: 'average billed duration of one function invocation',
  },
  {
    key: 'repliesPerIngest',
    flag: '--replies-per-ingest',
    value: 1,
    unit: 'replies/call',
    meaning: 'replies handled per ingest invocation and per replies-queue receive (1 = worst case; up to 10)',
  },
  {
    key: 'ingestPollers',
    flag: '--ingest-pollers',
    value: 5,
    unit: 'pollers',
    meaning: "long polls Lambda's event source keeps on the replies queue when it is idle",
  },
  {
    key: 'watchSeconds',
    flag: '--watch-seconds',
    value: 10,
    unit: 's',
    meaning: 'how long drover run follows a run, re-reading its node items every 0.1 s (0 for --async)',
  },
] as const satisfies readonly Parameter[];

export const PRICES = [
  {
    key: 'sqsPerMillion',
    flag: '--price-sqs-per-million',
    value: 0.4,
    unit: 'USD',
    meaning: 'SQS standard requests, per million',
  },
  {
    key: 'ddbWritePerMillion',
    flag: '--price-ddb-write-per-million',
    value: 0.625,
    unit: 'USD',
    meaning: 'DynamoDB on-demand write request units, per million',
  },
  {
    key: 'ddbReadPerMillion',
    flag: '--price-ddb-read-per-million',
    value: 0.125,
    unit: 'USD',
    meaning: 'DynamoDB on-demand read request units, per million',
  },
  {
    key: 'ddbStoragePerGb',
    flag: '--price-ddb-storage-per-gb',
    value: 0.25,
    unit: 'USD',
    meaning: 'DynamoDB standard storage, per GB-month',
  },
  {
    key: 'sfnPerThousand',
    flag: '--price-sfn-per-thousand',
    value: 0.025,
    unit: 'USD',
    meaning: 'Step Functions standard state transitions, per thousand',
  },
  {
    key: 'lambdaPerMillion',
    flag: '--price-lambda-per-million',
    value: 0.2,
    unit: 'USD',
    meaning: 'Lambda requests, per million',
  },
  {
    key: 'lambdaPerGbSecond',
    flag: '--price-lambda-per-gb-second',
    value: 0.0000133334,
    unit: 'USD',
    meaning: 'Lambda duration on arm64, per GB-second',
  },
  {
    key: 'kmsPer10k',
    flag: '--price-kms-per-10k',
    value: 0.15,
    unit: 'USD',
    meaning: 'KMS requests on an asymmetric (ECC) key, per 10,000',
  },
  { key: 'kmsKeyPerMonth', flag: '--price-kms-key', value: 1, unit: 'USD', meaning: 'KMS key, per month' },
  {
    key: 'eventsPerMillion',
    flag: '--price-events-per-million',
    value: 1,
    unit: 'USD',
    meaning: 'EventBridge custom events, per million',
  },
  {
    key: 'schedulerPerMillion',
    flag: '--price-scheduler-per-million',
    value: 1,
    unit: 'USD',
    meaning: 'EventBridge Scheduler invocations, per million beyond the 14 million free each month',
  },
] as const satisfies readonly Parameter[];

export type Assumptions = Record<(typeof ASSUMPTIONS)[number]['key'], number>;
export type Prices = Record<(typeof PRICES)[number]['key'], number>;

export const defaultAssumptions = (): Assumptions =>
  Object.fromEntries(ASSUMPTIONS.map((a) => [a.key, a.value])) as Assumptions;
export const defaultPrices = (): Prices => Object.fromEntries(PRICES.map((p) => [p.key, p.value])) as Prices;

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
  return {
    runs,
    hostRuns,
    batches,
    heartbeats,
    sqs: {
      idlePolls: (a.hosts * SECONDS_PER_MONTH) / a.pollSeconds,
      eventSourcePolls: (a.ingestPollers * SECONDS_PER_MONTH) / EVENT_SOURCE_POLL_SECONDS,
      heartbeat: heartbeats * (1 + replyReceives),
      // request sent, received and deleted by the agent; ack and result sent; both consumed by ingest.
      perHostRun: hostRuns * (3 + 1 + resultChunks + 2 * replyReceives),
    },
    dynamo: {
      // DynamoDB bills an UpdateItem by the larger of the item's sizes before and after, however
      // few attributes it sets (Developer Guide, "Capacity unit consumption for write
      // operations"): the liveness-only write of an unchanged heartbeat costs the whole item.
      // A change adds the refused liveness attempt (a failed conditional write is billed too).
      heartbeatWrites: heartbeats * Math.ceil(a.factsKb + NODE_ITEM_KB),
      factsChangeWrites:
        Math.min(heartbeats, a.hosts * a.factsChangesPerDay * DAYS_PER_MONTH) *
        Math.ceil(a.factsKb + NODE_ITEM_KB),
      // plan: meta, batch and node items, plannedAt; dispatch: dispatchedAt (+ firstDispatchAt once);
      // two waits store and release their token; close; finish writes the summary.
      runWrites: runs * 5 + batches * 7 + hostRuns * 1,
      // ack moves the node item, the result stores output, each adds to the batch counters.
      replyWrites: hostRuns * (1 + Math.ceil(nodeItemKb) + 2 / a.repliesPerIngest),
      // plan scans the facts table (eventually consistent: half a unit per 4 KB).
      planReads: runs * Math.ceil((a.hosts * a.factsKb) / 4) * 0.5,
      // dispatch, close and finish query the run's node items (strongly consistent).
      runReads: runs * 4 + batches * 4 + Math.ceil((hostRuns * (NODE_ITEM_KB * 2 + nodeItemKb)) / 4),
      // drover run re-reads the node items every 0.1 s, and each landed host once in full.
      // Scheduled runs have nobody following them.
      watchReads: followedRuns * (watchPolls * Math.ceil((a.hostsPerRun * nodeItemKb) / 4) + a.hostsPerRun),
      storageGb: (hostRuns * nodeItemKb + a.hosts * a.factsKb) / (1024 * 1024),
    },
    // Plan, HasTargets, Finish; per batch Dispatch, AwaitAcks, AwaitResults, CloseBatch, MoreBatches.
    transitions: runs * 3 + batches * 5,
    lambda: {
      runInvocations: runs * 2 + batches * 4,
      ingestInvocations: (heartbeats + hostRuns * 2) / a.repliesPerIngest,
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

/** The monthly estimate, line by line. */
export function estimateMonthlyCost(a: Assumptions, p: Prices): CostEstimate {
  const u = monthlyUsage(a);
  const gbSeconds = (invocations: number) => invocations * (a.lambdaMemoryMb / 1024) * (a.lambdaMs / 1000);
  const sqs = (quantity: number) => (quantity / 1e6) * p.sqsPerMillion;
  const writes = (quantity: number) => (quantity / 1e6) * p.ddbWritePerMillion;
  const reads = (quantity: number) => (quantity / 1e6) * p.ddbReadPerMillion;
  const lambda = (invocations: number) =>
    (invocations / 1e6) * p.lambdaPerMillion + gbSeconds(invocations) * p.lambdaPerGbSecond;
  const line = (
    service: string,
    item: string,
    quantity: number,
    unit: string,
    monthlyUsd: number,
  ): CostLine => ({
    service,
    item,
    quantity: Math.round(quantity * 1000) / 1000,
    unit,
    monthlyUsd,
  });
  const lines = [
    line(
      'SQS',
      'agent long polls (empty receives, worst case)',
      u.sqs.idlePolls,
      'requests',
      sqs(u.sqs.idlePolls),
    ),
    line(
      'SQS',
      'replies-queue event source polls',
      u.sqs.eventSourcePolls,
      'requests',
      sqs(u.sqs.eventSourcePolls),
    ),
    line('SQS', 'heartbeats (send, receive, delete)', u.sqs.heartbeat, 'requests', sqs(u.sqs.heartbeat)),
    line('SQS', 'runs: request, ack, result per host', u.sqs.perHostRun, 'requests', sqs(u.sqs.perHostRun)),
    line(
      'DynamoDB',
      'heartbeat writes (liveness; the whole item is billed)',
      u.dynamo.heartbeatWrites,
      'WRU',
      writes(u.dynamo.heartbeatWrites),
    ),
    line(
      'DynamoDB',
      'facts changes (one more write each)',
      u.dynamo.factsChangeWrites,
      'WRU',
      writes(u.dynamo.factsChangeWrites),
    ),
    line(
      'DynamoDB',
      'run records (plan, waits, close, finish)',
      u.dynamo.runWrites,
      'WRU',
      writes(u.dynamo.runWrites),
    ),
    line('DynamoDB', 'acks and results', u.dynamo.replyWrites, 'WRU', writes(u.dynamo.replyWrites)),
    line('DynamoDB', 'discovery scans', u.dynamo.planReads, 'RRU', reads(u.dynamo.planReads)),
    line('DynamoDB', 'run steps reading node items', u.dynamo.runReads, 'RRU', reads(u.dynamo.runReads)),
    line('DynamoDB', 'drover run following results', u.dynamo.watchReads, 'RRU', reads(u.dynamo.watchReads)),
    line(
      'DynamoDB',
      'storage (30-day retention)',
      u.dynamo.storageGb,
      'GB-month',
      u.dynamo.storageGb * p.ddbStoragePerGb,
    ),
    line(
      'Step Functions',
      'state transitions',
      u.transitions,
      'transitions',
      (u.transitions / 1000) * p.sfnPerThousand,
    ),
    line('Lambda', 'run steps', u.lambda.runInvocations, 'invocations', lambda(u.lambda.runInvocations)),
    line('Lambda', 'ingest', u.lambda.ingestInvocations, 'invocations', lambda(u.lambda.ingestInvocations)),
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
  const byService: Record<string, number> = {};
  for (const l of lines) byService[l.service] = (byService[l.service] ?? 0) + l.monthlyUsd;
  return { lines, byService, totalMonthlyUsd: lines.reduce((sum, l) => sum + l.monthlyUsd, 0) };
}
