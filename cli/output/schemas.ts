/**
 * The schemas of everything drover prints with `--json` and `--jsonl`. They are the contract
 * scripts rely on: docs/cli.md embeds their JSON Schema (`drover schema <name>` prints it, a unit
 * test keeps the two equal) and the end-to-end tests validate real output against them.
 */
import { z } from 'zod';
import { NODE_STATUSES } from '#shared/runs-table.ts';
import { runOptionsSchema } from '#shared/messages.ts';
import { RUN_STATUSES } from './run-statuses.ts';
import { MEMBERSHIP_STATUSES } from '#shared/node-status.ts';

const ms = z.number().int();
const nullableMs = ms.nullable();

const filterSchema = z
  .object({
    with: z.array(z.string()),
    fact: z.array(z.string()),
    class: z.array(z.string()),
    identity: z.array(z.string()),
    select: z.string().optional(),
  })
  .strict();

const commandSchema = z.union([
  z.object({ shell: z.string() }).strict(),
  z.object({ argv: z.array(z.string()) }).strict(),
]);

export const hostSchema = z
  .object({
    identity: z.string(),
    nodeId: z.string(),
    status: z.enum(NODE_STATUSES),
    exitCode: z.number().int().nullable(),
    signal: z.string().nullable(),
    timedOut: z.boolean(),
    stdout: z.string(),
    stderr: z.string(),
    stdoutBytes: z.number().int().min(0),
    stderrBytes: z.number().int().min(0),
    stdoutTruncated: z.boolean(),
    stderrTruncated: z.boolean(),
    startedAt: nullableMs,
    endedAt: nullableMs,
    durationMs: nullableMs,
    reason: z.string().optional(),
    error: z.string().optional(),
    /**
     * The host's reply was recorded after the run's summary was made: `status` is what the summary
     * counted it as (e.g. `no_response`), and the output is the late reply's.
     */
    lateReply: z.literal(true).optional(),
  })
  .strict();
export type HostJson = z.infer<typeof hostSchema>;

export const summarySchema = z
  .object({
    expected: z.number().int(),
    discovered: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    timedOut: z.number().int(),
    noResponse: z.number().int(),
    rejected: z.number().int(),
    unreachable: z.number().int(),
    skipped: z.number().int(),
    cancelled: z.number().int(),
    late: z.number().int(),
    exitCodes: z.record(z.string(), z.number().int()),
    durationMs: z.object({ p50: ms, p95: ms, max: ms }).strict().nullable(),
    exitCode: z.number().int(),
    stoppedEarly: z.string().optional(),
  })
  .strict();

const estimatedCostSchema = z
  .object({
    usd: z.number().min(0),
    hosts: z.number().int().min(0),
    byService: z.record(z.string(), z.number().min(0)),
    pricesAsOf: z.string(),
  })
  .strict()
  .nullable();

const runFields = {
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  action: z.enum(['exec', 'ping', 'cancel']),
  command: commandSchema.nullable(),
  filter: filterSchema.nullable(),
  options: runOptionsSchema.nullable(),
  caller: z.string(),
  startedAt: nullableMs,
  finishedAt: nullableMs,
  /** Control-plane time from the start of planning to the end of the run. */
  elapsedMs: ms,
  summary: summarySchema.nullable(),
  /** The exit code drover exits with for this run (see docs/cli.md). */
  exitCode: z.number().int(),
  notFound: z.array(z.string()).optional(),
  error: z.string().optional(),
  /**
   * Replies still in the replies queue when an acknowledgement window closed after its bounded
   * wait for ingest: hosts reported `no_response` or `timed_out` may have answered in time.
   */
  repliesQueuedAtClose: z.number().int().min(1).optional(),
  /** The run's estimated AWS cost, from the model of `drover cost`; null without a run record. */
  estimatedCost: estimatedCostSchema,
};

/** `drover run --json`, `drover show --json`. */
export const runDocumentSchema = z.object({ ...runFields, hosts: z.array(hostSchema) }).strict();
export type RunJson = z.infer<typeof runDocumentSchema>;

/** `drover run --jsonl`: one of these per host as it lands, then one summary line. */
export const jsonlHostLineSchema = hostSchema.extend({ type: z.literal('host'), runId: z.string() }).strict();
export type JsonlHostLine = z.infer<typeof jsonlHostLineSchema>;
export const jsonlSummaryLineSchema = z.object({ type: z.literal('summary'), ...runFields }).strict();
export type JsonlSummaryLine = z.infer<typeof jsonlSummaryLineSchema>;
export const jsonlLineSchema = z.discriminatedUnion('type', [jsonlHostLineSchema, jsonlSummaryLineSchema]);

/** `drover run --async --json`. */
export const asyncStartSchema = z
  .object({ runId: z.string(), status: z.literal('running'), executionArn: z.string() })
  .strict();

const fleetHostSchema = z
  .object({
    identity: z.string(),
    nodeId: z.string(),
    lastSeen: ms,
    lastSeenAgoMs: ms,
    stale: z.boolean(),
    agentVersion: z.string(),
    /** Membership: `active`, or (with `--all`) `lost`, `stopped`, `terminated`. */
    status: z.enum(MEMBERSHIP_STATUSES),
    statusReason: z.string().optional(),
  })
  .strict();

/** `drover find --json`. */
export const findDocumentSchema = z
  .object({ filter: filterSchema, count: z.number().int(), hosts: z.array(fleetHostSchema) })
  .strict();
export type FindJson = z.infer<typeof findDocumentSchema>;

/** `drover facts <fact> --json`. */
export const factsDocumentSchema = z
  .object({
    fact: z.string(),
    filter: filterSchema,
    hosts: z.number().int(),
    values: z.array(
      z
        .object({ value: z.unknown(), text: z.string(), count: z.number().int(), hosts: z.array(z.string()) })
        .strict(),
    ),
    missing: z.array(z.string()),
  })
  .strict();
export type FactsJson = z.infer<typeof factsDocumentSchema>;

/** `drover inventory <host> --json`. */
export const inventoryDocumentSchema = z
  .object({
    identity: z.string(),
    nodeId: z.string(),
    agentVersion: z.string(),
    lastSeen: ms,
    lastSeenAgoMs: ms,
    stale: z.boolean(),
    heartbeatSec: z.number().int(),
    joinedAt: nullableMs,
    startedAt: nullableMs,
    inbox: z.string(),
    classes: z.array(z.string()),
    facts: z.record(z.string(), z.unknown()),
  })
  .strict();
export type InventoryJson = z.infer<typeof inventoryDocumentSchema>;

/** `drover ping --json`. */
export const pingDocumentSchema = z
  .object({
    runId: z.string(),
    status: z.enum(RUN_STATUSES),
    replies: z.array(z.object({ identity: z.string(), nodeId: z.string(), rttMs: ms }).strict()),
    noResponse: z.array(z.string()),
    rejected: z.array(z.object({ identity: z.string(), reason: z.string() }).strict()),
    stats: z
      .object({ count: z.number().int(), min: ms, max: ms, avg: ms, p50: ms, p95: ms })
      .strict()
      .nullable(),
    exitCode: z.number().int(),
    /** The ping's estimated AWS cost, as in the run document. */
    estimatedCost: estimatedCostSchema,
  })
  .strict();
export type PingJson = z.infer<typeof pingDocumentSchema>;

/** `drover runs --json`. */
export const runsDocumentSchema = z
  .object({
    runs: z.array(
      z
        .object({
          runId: z.string(),
          status: z.enum(RUN_STATUSES),
          action: z.enum(['exec', 'ping', 'cancel']),
          command: commandSchema.nullable(),
          filter: filterSchema,
          caller: z.string(),
          /** The schedule that started the run (drover schedule), or null. */
          schedule: z.string().nullable(),
          createdAt: ms,
          finishedAt: nullableMs,
          expected: z.number().int(),
          summary: summarySchema.nullable(),
          /** Estimated AWS cost of the run from its record (model of `drover cost`, 1 KB output a host). */
          estimatedUsd: z.number().min(0),
        })
        .strict(),
    ),
    /** With `--total-by`: what the runs were grouped by, and the sums per group. */
    totalBy: z.enum(['caller', 'schedule', 'day']).optional(),
    totals: z
      .array(
        z
          .object({
            key: z.string(),
            runs: z.number().int(),
            hosts: z.number().int(),
            usd: z.number().min(0),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();
export type RunsJson = z.infer<typeof runsDocumentSchema>;

/** `drover cancel <runId> --json`. */
export const cancelDocumentSchema = z
  .object({
    runId: z.string(),
    /** The run's status when the cancel was handled: `cancelled`, or how it had already ended. */
    status: z.enum(RUN_STATUSES),
    stopping: z.number().int(),
    abandoned: z.number().int(),
    /** The run's status once it finished (or `running` if it had not within the wait). */
    finalStatus: z.enum(RUN_STATUSES),
    summary: summarySchema.nullable(),
  })
  .strict();
export type CancelJson = z.infer<typeof cancelDocumentSchema>;

/** `drover cost --json`. */
export const costDocumentSchema = z
  .object({
    pricesAsOf: z.string(),
    region: z.string(),
    assumptions: z.array(
      z.object({ flag: z.string(), value: z.number(), unit: z.string(), meaning: z.string() }).strict(),
    ),
    prices: z.array(
      z.object({ flag: z.string(), value: z.number(), unit: z.string(), meaning: z.string() }).strict(),
    ),
    lines: z.array(
      z
        .object({
          service: z.string(),
          item: z.string(),
          quantity: z.number(),
          unit: z.string(),
          monthlyUsd: z.number(),
        })
        .strict(),
    ),
    byService: z.record(z.string(), z.number()),
    totalMonthlyUsd: z.number(),
    /** Paid once when the stage is deployed with warm throughput; not in the monthly total. */
    oneTime: z.array(
      z
        .object({
          service: z.string(),
          item: z.string(),
          quantity: z.number(),
          unit: z.string(),
          usd: z.number(),
        })
        .strict(),
    ),
    oneTimeUsd: z.number(),
  })
  .strict();

const scheduleEntrySchema = z
  .object({
    name: z.string(),
    state: z.enum(['enabled', 'paused']),
    /** As EventBridge Scheduler holds it: `cron(…)`, `rate(…)` or `at(…)`. */
    expression: z.string(),
    timeZone: z.string(),
    /** The flexible time window, in minutes; null = on time. */
    windowMinutes: z.number().int().nullable(),
    /** The next fire time (ms), or null when paused or none is left. */
    nextFireAt: nullableMs,
    command: commandSchema.nullable(),
    filter: filterSchema,
  })
  .strict();

/** `drover schedule list --json`. */
export const schedulesDocumentSchema = z.object({ schedules: z.array(scheduleEntrySchema) }).strict();
export type SchedulesJson = z.infer<typeof schedulesDocumentSchema>;

/** `drover schedule show <name> --json`. */
export const scheduleDocumentSchema = scheduleEntrySchema
  .extend({
    stage: z.string(),
    allowOverlap: z.boolean(),
    options: z.record(z.string(), z.unknown()),
    /** The next five fire times (ms). */
    nextFireTimes: z.array(ms),
    /** What a run ending failed, in error or invalid emits on the stage's bus. */
    failureEvent: z.literal('Run Failed'),
    runs: z.array(
      z
        .object({
          runId: z.string(),
          status: z.enum(RUN_STATUSES),
          createdAt: ms,
          finishedAt: nullableMs,
          exitCode: z.number().int().nullable(),
        })
        .strict(),
    ),
  })
  .strict();
export type ScheduleJson = z.infer<typeof scheduleDocumentSchema>;

/** Every output schema, by the name `drover schema <name>` and docs/cli.md use. */
export const OUTPUT_SCHEMAS = {
  run: runDocumentSchema,
  'run-jsonl': jsonlLineSchema,
  'run-async': asyncStartSchema,
  ping: pingDocumentSchema,
  find: findDocumentSchema,
  facts: factsDocumentSchema,
  inventory: inventoryDocumentSchema,
  runs: runsDocumentSchema,
  cancel: cancelDocumentSchema,
  cost: costDocumentSchema,
  schedules: schedulesDocumentSchema,
  schedule: scheduleDocumentSchema,
} as const;
export type OutputSchemaName = keyof typeof OUTPUT_SCHEMAS;

/** The JSON Schema (draft 2020-12) of one output. */
export function jsonSchemaOf(name: OutputSchemaName): Record<string, unknown> {
  return z.toJSONSchema(OUTPUT_SCHEMAS[name], { io: 'output', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
}
