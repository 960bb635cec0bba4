/**
 * The Auto Scaling side of lifecycle hooks: the client (the SDK honours
 * `AWS_ENDPOINT_URL_AUTO_SCALING`, which the local stack sets to its emulator), the hook names
 * drover owns and how it puts them on a group.
 */
import {
  AutoScalingClient,
  DeleteLifecycleHookCommand,
  PutLifecycleHookCommand,
} from '@aws-sdk/client-auto-scaling';

export function createAutoScalingClient(options: {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}): AutoScalingClient {
  return new AutoScalingClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
}

export const LAUNCH = 'autoscaling:EC2_INSTANCE_LAUNCHING';
export const TERMINATE = 'autoscaling:EC2_INSTANCE_TERMINATING';

/** `drover-<stage>-launch` / `drover-<stage>-terminate`: the rule starts the lifecycle machine on these. */
export const hookName = (stage: string, kind: 'launch' | 'terminate'): string => `drover-${stage}-${kind}`;

/**
 * How long Auto Scaling waits for the next heartbeat or completion: the state machine records a
 * heartbeat at least every half of it, so a long bootstrap never hits it (30 to 7200 s in AWS).
 */
export const HOOK_HEARTBEAT_TIMEOUT_SEC = 300;

/**
 * Puts drover's two hooks on a group: launch waits and abandons the instance if drover never
 * answers (a host that was not bootstrapped must not serve); terminate continues (the instance is
 * going anyway). Idempotent: PutLifecycleHook replaces a hook of the same name.
 */
export async function putDroverHooks(client: AutoScalingClient, stage: string, asg: string): Promise<void> {
  for (const [kind, transition, defaultResult] of [
    ['launch', LAUNCH, 'ABANDON'],
    ['terminate', TERMINATE, 'CONTINUE'],
  ] as const) {
    await client.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: asg,
        LifecycleHookName: hookName(stage, kind),
        LifecycleTransition: transition,
        HeartbeatTimeout: HOOK_HEARTBEAT_TIMEOUT_SEC,
        DefaultResult: defaultResult,
      }),
    );
  }
}

/** Removes drover's hooks from a group; a hook already gone is not an error. */
export async function deleteDroverHooks(
  client: AutoScalingClient,
  stage: string,
  asg: string,
): Promise<void> {
  for (const kind of ['launch', 'terminate'] as const) {
    try {
      await client.send(
        new DeleteLifecycleHookCommand({
          AutoScalingGroupName: asg,
          LifecycleHookName: hookName(stage, kind),
        }),
      );
    } catch (error: unknown) {
      if (!(error instanceof Error && /not found/i.test(error.message))) throw error;
    }
  }
}
