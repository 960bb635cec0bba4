/**
 * The inputs of the cost model (model.ts): the assumptions about a fleet and its use, and the AWS
 * list prices, each a named value with the `drover cost` flag that overrides it. Every price names
 * the public AWS pricing page it was read from.
 */

export interface Parameter {
  key: string;
  /** The `drover cost` flag that overrides it. */
  flag: string;
  value: number;
  unit: string;
  meaning: string;
  /** For a price: the AWS pricing page it was read from (us-east-1, on PRICES_AS_OF). */
  source?: string;
}

/**
 * List prices in us-east-1, read from the AWS pricing pages on this date (each price names its
 * page). Free tiers are left out: the estimate is what the stack costs once they are used up.
 */
export const PRICES_AS_OF = '2026-12-02';
export const PRICES_REGION = 'us-east-1';

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
    meaning: "long polls Lambda's event source keeps on the replies queue when it is idle (standard mode)",
  },
  {
    key: 'tallyMemberBytes',
    flag: '--tally-member-bytes',
    value: 3,
    unit: 'bytes',
    meaning:
      "size of a host in its dispatch group's tally item (its slot in the group, a number of 1-3 digits): the item holds two per host, and every update is billed its whole size",
  },
  {
    key: 'ingestMinPollers',
    flag: '--ingest-min-pollers',
    value: 0,
    unit: 'pollers',
    meaning:
      'the stage param ingestMinPollers: provisioned event pollers on the replies queue, always on (0: standard mode, not billed)',
  },
  {
    key: 'ingestMaxPollers',
    flag: '--ingest-max-pollers',
    value: 0,
    unit: 'pollers',
    meaning:
      "the stage param ingestMaxPollers (0: AWS's 200); a run scales up to it by what its replies need at 1 MB/s a poller, billed a minute",
  },
  {
    key: 'runsWarmReads',
    flag: '--runs-warm-reads',
    value: 0,
    unit: 'units/s',
    meaning: 'the stage param runsWarmReads: warm read throughput of the runs table (0: off)',
  },
  {
    key: 'runsWarmWrites',
    flag: '--runs-warm-writes',
    value: 0,
    unit: 'units/s',
    meaning:
      'the stage param runsWarmWrites: warm write throughput of the runs table and of its index (0: off)',
  },
  {
    key: 'nodesWarmReads',
    flag: '--nodes-warm-reads',
    value: 0,
    unit: 'units/s',
    meaning: 'the stage param nodesWarmReads: warm read throughput of the nodes table (0: off)',
  },
  {
    key: 'nodesWarmWrites',
    flag: '--nodes-warm-writes',
    value: 0,
    unit: 'units/s',
    meaning: 'the stage param nodesWarmWrites: warm write throughput of the nodes table (0: off)',
  },
  {
    key: 'watchSeconds',
    flag: '--watch-seconds',
    value: 10,
    unit: 's',
    meaning:
      'how long drover run follows a run, polling every 0.1 s (the run record, the results index, each landed host once; 0 for --async)',
  },
  {
    key: 'logKbPerInvocation',
    flag: '--log-kb-per-invocation',
    value: 0.5,
    unit: 'KB',
    meaning:
      "CloudWatch Logs written per function invocation (Lambda's START, END and REPORT lines are about 0.4 KB; drover logs little more at INFO)",
  },
] as const satisfies readonly Parameter[];

export const PRICES = [
  {
    key: 'sqsPerMillion',
    flag: '--price-sqs-per-million',
    value: 0.4,
    unit: 'USD',
    meaning: 'SQS standard requests (each 64 KB chunk of a payload is one), per million',
    source: 'https://aws.amazon.com/sqs/pricing/',
  },
  {
    key: 'ddbWritePerMillion',
    flag: '--price-ddb-write-per-million',
    value: 0.625,
    unit: 'USD',
    meaning: 'DynamoDB on-demand write request units, per million (halved in November 2024)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  {
    key: 'ddbReadPerMillion',
    flag: '--price-ddb-read-per-million',
    value: 0.125,
    unit: 'USD',
    meaning: 'DynamoDB on-demand read request units, per million',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  {
    key: 'ddbStoragePerGb',
    flag: '--price-ddb-storage-per-gb',
    value: 0.25,
    unit: 'USD',
    meaning: 'DynamoDB standard storage, per GB-month',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  {
    key: 'sfnPerThousand',
    flag: '--price-sfn-per-thousand',
    value: 0.025,
    unit: 'USD',
    meaning: 'Step Functions standard state transitions, per thousand',
    source: 'https://aws.amazon.com/step-functions/pricing/',
  },
  {
    key: 'lambdaPerMillion',
    flag: '--price-lambda-per-million',
    value: 0.2,
    unit: 'USD',
    meaning: 'Lambda requests, per million',
    source: 'https://aws.amazon.com/lambda/pricing/',
  },
  {
    key: 'lambdaPerGbSecond',
    flag: '--price-lambda-per-gb-second',
    value: 0.0000133334,
    unit: 'USD',
    meaning: 'Lambda duration on arm64, per GB-second',
    source: 'https://aws.amazon.com/lambda/pricing/',
  },
  {
    key: 'kmsPer10k',
    flag: '--price-kms-per-10k',
    value: 0.15,
    unit: 'USD',
    meaning:
      'KMS requests on an asymmetric key other than RSA 2048 (drover signs with ECC P-256), per 10,000',
    source: 'https://aws.amazon.com/kms/pricing/',
  },
  {
    key: 'kmsKeyPerMonth',
    flag: '--price-kms-key',
    value: 1,
    unit: 'USD',
    meaning: 'KMS key, per month',
    source: 'https://aws.amazon.com/kms/pricing/',
  },
  {
    key: 'eventsPerMillion',
    flag: '--price-events-per-million',
    value: 1,
    unit: 'USD',
    meaning: 'EventBridge custom events, per million',
    source: 'https://aws.amazon.com/eventbridge/pricing/',
  },
  {
    key: 'schedulerPerMillion',
    flag: '--price-scheduler-per-million',
    value: 1,
    unit: 'USD',
    meaning: 'EventBridge Scheduler invocations, per million beyond the 14 million free each month',
    source: 'https://aws.amazon.com/eventbridge/pricing/',
  },
  {
    key: 'logsPerGb',
    flag: '--price-logs-per-gb',
    value: 0.5,
    unit: 'USD',
    meaning: 'CloudWatch Logs standard ingestion, per GB (the first tier of Lambda logs)',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
  {
    key: 'logsStoragePerGb',
    flag: '--price-logs-storage-per-gb',
    value: 0.03,
    unit: 'USD',
    meaning: 'CloudWatch Logs storage, per GB-month',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
  {
    key: 'eventPollerHour',
    flag: '--price-event-poller-hour',
    value: 0.00925,
    unit: 'USD',
    meaning:
      'Lambda provisioned mode for SQS event source mappings, per event poller unit (EPU) hour; for SQS one EPU is one event poller (per second, 1-minute minimum)',
    source: 'https://aws.amazon.com/lambda/pricing/',
  },
  {
    key: 'warmWriteUnit',
    flag: '--price-warm-write-unit',
    value: 0.00065,
    unit: 'USD',
    meaning:
      "DynamoDB warm throughput, once per write unit a second raised above the table's (or index's) current warm throughput: one hour of a provisioned WCU",
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  {
    key: 'warmReadUnit',
    flag: '--price-warm-read-unit',
    value: 0.00013,
    unit: 'USD',
    meaning:
      "DynamoDB warm throughput, once per read unit a second raised above the table's current warm throughput: one hour of a provisioned RCU",
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  {
    key: 'alarmPerMonth',
    flag: '--price-alarm',
    value: 0.1,
    unit: 'USD',
    meaning: 'CloudWatch standard-resolution alarm, per alarm metric and month',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
] as const satisfies readonly Parameter[];

export type Assumptions = Record<(typeof ASSUMPTIONS)[number]['key'], number>;
export type Prices = Record<(typeof PRICES)[number]['key'], number>;

export const defaultAssumptions = (): Assumptions =>
  Object.fromEntries(ASSUMPTIONS.map((a) => [a.key, a.value])) as Assumptions;
export const defaultPrices = (): Prices => Object.fromEntries(PRICES.map((p) => [p.key, p.value])) as Prices;
