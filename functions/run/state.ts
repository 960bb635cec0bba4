/**
 * The data the `run` state machine carries between states. Node lists never travel here (the
 * 256 KiB payload limit): they live in the runs table; the state carries ids and counts.
 */
import { z } from 'zod';

/** Largest number of hosts one signature covers (the signed document lists them). */
export const SIGNING_GROUP_SIZE = 500;

/**
 * Hosts one Dispatch invocation sends to by default: one signature's worth, so a group costs one
 * KMS Sign and ~500 SendMessage calls (about a quarter of a second at 32 in flight), and its
 * item of node ids stays far below DynamoDB's 400 KB. `DROVER_DISPATCH_GROUP_SIZE` lowers it.
 */
export const DISPATCH_GROUP_SIZE = SIGNING_GROUP_SIZE;

/**
 * Groups one batch may have: 100,000 hosts at the default size; a larger batch gets larger groups.
 * Bounds the state (a few KB) and the batch's share of the execution history (7 events a group).
 */
export const MAX_GROUPS_PER_BATCH = 200;

export { InvalidRunRequest } from '#shared/run-errors.ts';

export const runStateSchema = z.object({
  runId: z.string().min(1),
  batch: z.number().int().min(0),
  batchCount: z.number().int().min(0),
  batchSleepSec: z.number().int().min(0),
  /** Seconds for the two waits, read by TimeoutSecondsPath in the ASL. */
  timeouts: z.object({ ackSec: z.number().int().min(1), resultSec: z.number().int().min(1) }),
  /** True while there is a batch left to dispatch. */
  more: z.boolean(),
  /**
   * The current batch's dispatch groups (0…n-1): the Map state's items, one Dispatch invocation
   * each. Keys of items Plan wrote, never hosts: a few bytes a group. CloseBatch reads the next
   * batch's from its item, so its input may leave them out.
   */
  groups: z.array(z.number().int().min(0)).max(MAX_GROUPS_PER_BATCH).default([]),
});
export type RunState = z.infer<typeof runStateSchema>;

export const batchRefSchema = z.object({ runId: z.string().min(1), batch: z.number().int().min(0) });
export type BatchRef = z.infer<typeof batchRefSchema>;

/**
 * Dispatch's input: send the request to one group of the batch (the run state machine's Map
 * passes `group`), or to the whole batch without it; or (`cancel`) tell the batch's live hosts to stop.
 */
export const dispatchInputSchema = batchRefSchema.extend({
  action: z.enum(['run', 'cancel']).default('run'),
  group: z.number().int().min(0).optional(),
});
export type DispatchInput = z.infer<typeof dispatchInputSchema>;

export const awaitInputSchema = batchRefSchema.extend({
  phase: z.enum(['acks', 'results']),
  token: z.string().min(1),
});
export type AwaitInput = z.infer<typeof awaitInputSchema>;

export const finishInputSchema = z.object({
  runId: z.string().min(1),
  /** Present when a step failed: the state machine's Catch output. */
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});

/**
 * Plan's input: the execution's input as given (`request`) and the execution it runs in, whose
 * name is the run's id (`$$.Execution.Name`) and whose start time tells a retry of this execution's
 * Plan from another execution that reuses the name.
 */
export const planInputSchema = z.object({
  request: z.unknown(),
  execution: z.object({ name: z.string().min(1), startTime: z.string().min(1) }),
});
export type PlanInput = z.infer<typeof planInputSchema>;
export type FinishInput = z.infer<typeof finishInputSchema>;

/** Seconds the results wait allows beyond the command timeout: kill grace plus delivery. */
export const RESULT_GRACE_SEC = 15;
