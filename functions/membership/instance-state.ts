/**
 * EC2 `EC2 Instance State-change Notification` (stopped, terminated) for a node of this stage:
 * the node is marked at once and announced (`Node Stopped`, `Node Terminated`), so runs stop
 * expecting it without waiting for the reaper. Events for instances that are not nodes of this
 * stage are ignored and logged.
 */
import { z } from 'zod';
import type { EventPublisher, NodeEventDetail } from '#shared/drover-events.ts';
import type { NodesStore } from '#shared/stores/nodes-store.ts';

export const instanceStateEventSchema = z.object({
  source: z.literal('aws.ec2'),
  'detail-type': z.literal('EC2 Instance State-change Notification'),
  time: z.string(),
  detail: z.object({ 'instance-id': z.string().min(1), state: z.string() }),
});

export class InvalidInstanceStateEvent extends Error {
  override name = 'InvalidInstanceStateEvent';
}

export interface InstanceStateDeps {
  membership: NodesStore;
  /**
   * Deletes a terminated node's inbox (a terminated instance never reads it again), by its node
   * id: the URL is derived from the id (`inboxQueueUrl`), never taken from what a host reported.
   */
  deleteInbox: (nodeId: string) => Promise<void>;
  events: EventPublisher;
  now: () => number;
  log: { info(message: string, extra: Record<string, unknown>): void };
}

export type InstanceStateOutcome = 'marked' | 'unchanged' | 'ignored';

export async function applyInstanceState(
  event: unknown,
  deps: InstanceStateDeps,
): Promise<InstanceStateOutcome> {
  const parsed = instanceStateEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidInstanceStateEvent(`not an EC2 state-change notification: ${parsed.error.message}`);
  }
  const { detail, time } = parsed.data;
  const state = detail.state;
  if (state !== 'stopped' && state !== 'terminated') {
    deps.log.info('instance state ignored', { instanceId: detail['instance-id'], state });
    return 'ignored';
  }
  const parsedAt = Date.parse(time);
  const at = Number.isFinite(parsedAt) ? parsedAt : deps.now();
  const before = await deps.membership.markInstanceState(detail['instance-id'], state, at);
  if (!before) {
    // Not a node of this stage, already marked (a redelivered event), or terminated already.
    deps.log.info('instance state changes no node', { instanceId: detail['instance-id'], state });
    return 'unchanged';
  }
  if (state === 'terminated') {
    // Best effort: a failure leaves one queue behind, never the node marked wrong.
    await deps.deleteInbox(before.nodeId).catch((error: unknown) => {
      deps.log.info('inbox not deleted', { nodeId: before.nodeId, error: String(error) });
    });
  }
  const payload: NodeEventDetail = {
    at,
    nodeId: before.nodeId,
    identity: before.identity,
    ...(before.asg ? { asg: before.asg } : {}),
    reason: `instance ${state}`,
  };
  await deps.events.publish(state === 'stopped' ? 'Node Stopped' : 'Node Terminated', payload);
  return 'marked';
}
