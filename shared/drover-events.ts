/**
 * The events drover puts on the stage's bus (source `drover`): their names and the detail each
 * carries (docs/events.md documents them). Every detail has `at` (ms since the epoch, when it
 * happened), which orders the event log more finely than EventBridge's one-second `time`.
 */
import { z } from 'zod';

export const EVENT_SOURCE = 'drover';

export const EVENT_TYPES = [
  'Node Joined',
  'Node Lost',
  'Node Returned',
  'Node Stopped',
  'Node Terminated',
  'Bootstrap Started',
  'Bootstrap Succeeded',
  'Bootstrap Failed',
  'Decommission Started',
  'Decommission Finished',
  'Run Started',
  'Run Completed',
  'Run Failed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What every membership event says about the node. */
export const nodeEventDetailSchema = z.object({
  at: z.number().int(),
  nodeId: z.string(),
  identity: z.string(),
  /** The Auto Scaling group, when the node belongs to one. */
  asg: z.string().optional(),
  /** Why the membership changed: `missed 3 heartbeats (60 s each)`, `instance stopped`, … */
  reason: z.string().optional(),
});
export type NodeEventDetail = z.infer<typeof nodeEventDetailSchema>;

/** Publishes one event on the stage's bus (an implementation per host: Lambda, tests). */
export interface EventPublisher {
  publish(detailType: string, detail: Record<string, unknown>): Promise<void>;
}

/** An event as EventBridge delivers it to a rule's target. */
export const busEventSchema = z.object({
  id: z.string().min(1),
  time: z.string(),
  source: z.string(),
  'detail-type': z.string(),
  detail: z.record(z.string(), z.unknown()),
});
export type BusEvent = z.infer<typeof busEventSchema>;
