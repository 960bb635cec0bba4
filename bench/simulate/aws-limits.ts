/**
 * What the AWS model (aws-model.ts) takes as given: AWS's documented limits (sources in
 * docs/scale.md), the design's constants, the large-fleet stage parameters, and the layouts it tabulates.
 */
/** AWS's documented limits the model applies (sources in docs/scale.md). */
export const AWS_LIMITS = {
  /** Step Functions developer guide, "Using Map state in Inline mode": up to 40 concurrent iterations. */
  inlineMapConcurrency: 40,
  /** Lambda developer guide, "Configuring scaling behavior for SQS event source mappings": five concurrent invokes at first… */
  esmStartConcurrency: 5,
  /** …then up to 300 more a minute, up to 1,250 at once. */
  esmRampPerSecond: 300 / 60,
  esmMaxConcurrency: 1_250,
  /** Provisioned mode (AWS News Blog, Nov 2025): up to 1,000 more concurrent executions a minute, up to 20,000. */
  provisionedRampPerSecond: 1_000 / 60,
  provisionedMaxConcurrency: 20_000,
  /** Lambda quotas: 1,000 concurrent executions per account and Region by default, shared by all functions. */
  accountConcurrency: 1_000,
  /** DynamoDB developer guide, partitions: one partition serves at most 1,000 WCU and 3,000 RCU a second. */
  partitionWcuPerSec: 1_000,
  partitionRcuPerSec: 3_000,
  /** DynamoDB on-demand, initial throughput: a new table serves up to 4,000 writes and 12,000 reads a second. */
  newTableWcuPerSec: 4_000,
  newTableRcuPerSec: 12_000,
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
  /** A host in its group's tally since slots: its place in the group, a number of 1-3 digits. */
  tallyMemberBytes: 3,
  /** The largest batch whose answer sets fit one batch item (functions/run/ledger-fit.ts), sets on the batch only. */
  maxBatchHosts: 10_000,
} as const;

/** What the provisioned settings are taken to be (the large-fleet stage parameters, off by default; docs/deploy.md). */
export const PROVISIONED = {
  /** Event pollers kept (MinimumPollers, 2–200), each up to 10 concurrent invokes: 200 from the first reply. */
  minimumPollers: 20,
  invokesPerPoller: 10,
  /** Warm throughput of the runs and nodes tables: the default per-table quota, 40,000 units a second each way. */
  warmUnitsPerSec: 40_000,
  /** Plan scaled to the fleet: 16 scan segments, 32 batch writes in flight. */
  scanSegments: 16,
  batchWritesInFlight: 32,
} as const;

/**
 * How the run's items are laid out and the services set up.
 * - `answers`: where a batch counts its answers: node id sets on the batch item, which every count
 *   rewrites at its whole size (`batch`); sets on a small tally item per dispatch group of 500,
 *   the batch item keeping the completed groups (`group`); or a counter per group (`counter`, one
 *   write unit a count; not built).
 * - `nodes`: the partition key of the node items (and the group tallies): the run's id, or one
 *   per dispatch group.
 * - `pollers`: ingest's SQS event source scaling by itself, or provisioned pollers.
 * - `warm`: the tables as a new on-demand table serves them, or with warm throughput set.
 * - `plan`: Plan's 4 scan segments and 8 writes in flight, or scaled to the fleet (16 and 32).
 */
export interface Layout {
  answers: 'batch' | 'group' | 'slots' | 'counter';
  /** Hosts per dispatch group (the stage's dispatchGroupSize): 500 unless set. */
  groupSize?: number;
  nodes: 'run' | 'group';
  pollers: 'default' | 'provisioned';
  warm: 'none' | 'set';
  plan: 'fixed' | 'scaled';
}

/** The combinations docs/scale.md tabulates. */
export const LAYOUTS = {
  /** Before this round: sets on the batch item, one partition per run. */
  'batch sets, run partition': {
    answers: 'batch',
    nodes: 'run',
    pollers: 'default',
    warm: 'none',
    plan: 'fixed',
  },
  /** An intermediate step: sets per group on tally items, still one partition per run. */
  'group sets, run partition': {
    answers: 'group',
    nodes: 'run',
    pollers: 'default',
    warm: 'none',
    plan: 'scaled',
  },
  /** Node items and tallies under one partition key per group, the sets holding node ids. */
  'group sets, group partitions': {
    answers: 'group',
    nodes: 'group',
    pollers: 'default',
    warm: 'none',
    plan: 'scaled',
  },
  /** As built: the tallies' sets hold each host's slot in its group (~3 bytes), not its node id. */
  'slot sets, group partitions': {
    answers: 'slots',
    nodes: 'group',
    pollers: 'default',
    warm: 'none',
    plan: 'scaled',
  },
  /** Group sets of node ids with the large-fleet parameters on: provisioned pollers, warm tables. */
  'group sets, group partitions, provisioned': {
    answers: 'group',
    nodes: 'group',
    pollers: 'provisioned',
    warm: 'set',
    plan: 'scaled',
  },
  /** Counters instead of sets (not built), with the knobs on. */
  'group counters, group partitions, provisioned': {
    answers: 'counter',
    nodes: 'group',
    pollers: 'provisioned',
    warm: 'set',
    plan: 'scaled',
  },
  /** As built with the large-fleet parameters on, dispatch groups of 250 among them. */
  'slot sets, group partitions, provisioned': {
    answers: 'slots',
    groupSize: 250,
    nodes: 'group',
    pollers: 'provisioned',
    warm: 'set',
    plan: 'scaled',
  },
} as const satisfies Record<string, Layout>;
export type LayoutName = keyof typeof LAYOUTS;

/** The layout the code builds today (answer sets of slots per group, one partition per group). */
export const AS_BUILT: LayoutName = 'slot sets, group partitions';
