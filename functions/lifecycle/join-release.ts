/**
 * Ingest's part of a launch: the first heartbeat of an instance of an Auto Scaling group releases
 * the lifecycle action waiting for it to join, if one is (most joins have none: one read).
 */
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { defaultClients } from '#shared/aws.ts';
import type { HeartbeatReply } from '#shared/messages.ts';
import { joinKey, LifecycleWaits } from '#shared/stores/lifecycle-waits.ts';

let waits: LifecycleWaits | undefined;

export async function releaseJoinWait(hb: HeartbeatReply): Promise<void> {
  const table = process.env.DROVER_LIFECYCLE_TABLE;
  const asg = hb.facts.asg;
  if (!table || typeof asg !== 'string' || asg === '') return;
  waits ??= new LifecycleWaits(defaultClients.dynamo, table);
  const token = await waits.claim(joinKey(asg, hb.nodeId));
  if (token) {
    await defaultClients.sfn.send(
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ joined: true }) }),
    );
  }
}
