/**
 * `drover lifecycle`: per-group lifecycle configuration in the control plane's store, and
 * drover's hooks on the Auto Scaling group, kept together.
 */
import {
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import {
  DynamoLifecycleConfigStore,
  InvalidLifecycleConfig,
  parseRequirement,
  validateLifecycleConfig,
  type LifecycleConfig,
} from '#shared/stores/lifecycle-config.ts';
import {
  HOOK_HEARTBEAT_TIMEOUT_SEC,
  LAUNCH,
  TERMINATE,
  createAutoScalingClient,
  deleteDroverHooks,
  hookName,
  putDroverHooks,
} from '#shared/autoscaling.ts';
import { ReactionStore } from '#shared/stores/reactions.ts';
import { CliError } from './errors.ts';
import { callerName } from './context.ts';
import type { ConnectedStack } from './stack.ts';

export interface LifecycleSetFlags {
  bootstrap?: string;
  decommission?: string;
  requires?: string;
  timeout?: string;
}

export function storeOf(conn: ConnectedStack): DynamoLifecycleConfigStore {
  if (!conn.lifecycleTable) {
    throw new CliError(
      `stage ${conn.stage} has no lifecycle table: redeploy it (npx sls deploy --stage ${conn.stage}) or restart the local stack`,
    );
  }
  return new DynamoLifecycleConfigStore(conn.db, conn.lifecycleTable);
}

/** Where `fleet apply` keeps the fleet file's reactions: the same table, items of their own. */
export function reactionStoreOf(conn: ConnectedStack): ReactionStore {
  return new ReactionStore(conn.db, storeOf(conn).table);
}

export function autoScalingOf(conn: ConnectedStack): AutoScalingClient {
  return createAutoScalingClient({
    region: conn.region,
    endpoint: conn.autoScalingEndpoint,
    credentials: conn.credentials,
  });
}

async function groupExists(client: AutoScalingClient, name: string): Promise<boolean> {
  const out = await client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  return (out.AutoScalingGroups ?? []).some((g) => g.AutoScalingGroupName === name);
}

/** The configuration `set` would store, validated; throws CliError naming what is wrong. */
export function configFrom(asg: string, flags: LifecycleSetFlags, now: number): LifecycleConfig {
  if (flags.bootstrap === undefined && flags.decommission === undefined) {
    throw new CliError('give --bootstrap, --decommission or both (drover lifecycle set --help)');
  }
  try {
    const timeoutSec = flags.timeout === undefined ? undefined : Number(flags.timeout);
    if (flags.timeout !== undefined && !/^\d+$/.test(flags.timeout.trim())) {
      throw new InvalidLifecycleConfig(`--timeout must be a whole number of seconds, got "${flags.timeout}"`);
    }
    return validateLifecycleConfig({
      asg,
      bootstrap: flags.bootstrap,
      decommission: flags.decommission,
      requires: flags.requires === undefined ? undefined : parseRequirement(flags.requires),
      timeoutSec,
      updatedAt: now,
      updatedBy: callerName(),
    });
  } catch (error: unknown) {
    if (error instanceof InvalidLifecycleConfig) throw new CliError(error.message, 4, { cause: error });
    throw error;
  }
}

/**
 * Stores the group's configuration, then puts drover's hooks on it. The group (and the group a
 * barrier names) must exist: a hook on a missing group would never fire, a barrier on one never open.
 */
export async function setLifecycle(conn: ConnectedStack, config: LifecycleConfig): Promise<void> {
  const client = autoScalingOf(conn);
  try {
    if (!(await groupExists(client, config.asg))) {
      throw new CliError(`no Auto Scaling group named "${config.asg}" in ${conn.region}`, 4);
    }
    if (config.requires && !(await groupExists(client, config.requires.group))) {
      throw new CliError(
        `--requires ${config.requires.group}:${config.requires.count}: no Auto Scaling group named "${config.requires.group}" in ${conn.region}`,
        4,
      );
    }
    await storeOf(conn).put(config);
    await putDroverHooks(client, conn.stage, config.asg);
  } finally {
    client.destroy();
  }
}

/**
 * Whether both of drover's hooks are on the group as putDroverHooks puts them (same transition,
 * timeout and default result): `fleet apply` puts them again only when they are not. A group
 * that does not exist has none.
 */
export async function droverHooksInPlace(
  client: AutoScalingClient,
  stage: string,
  asg: string,
): Promise<boolean> {
  if (!(await groupExists(client, asg))) return false;
  const out = await client.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: asg }));
  const hooks = out.LifecycleHooks ?? [];
  return (
    [
      [hookName(stage, 'launch'), LAUNCH, 'ABANDON'],
      [hookName(stage, 'terminate'), TERMINATE, 'CONTINUE'],
    ] as const
  ).every(([name, transition, result]) =>
    hooks.some(
      (h) =>
        h.LifecycleHookName === name &&
        h.LifecycleTransition === transition &&
        h.DefaultResult === result &&
        h.HeartbeatTimeout === HOOK_HEARTBEAT_TIMEOUT_SEC,
    ),
  );
}

/** The names among `names` that are not Auto Scaling groups of the stage's region. */
export async function missingGroups(conn: ConnectedStack, names: readonly string[]): Promise<string[]> {
  const client = autoScalingOf(conn);
  try {
    const missing: string[] = [];
    for (const name of new Set(names)) if (!(await groupExists(client, name))) missing.push(name);
    return missing;
  } finally {
    client.destroy();
  }
}

/** Removes the hooks first (no new lifecycle action starts), then the configuration. */
export async function removeLifecycle(conn: ConnectedStack, asg: string): Promise<boolean> {
  const client = autoScalingOf(conn);
  try {
    if (await groupExists(client, asg)) await deleteDroverHooks(client, conn.stage, asg);
    return await storeOf(conn).remove(asg);
  } finally {
    client.destroy();
  }
}

/** Lines of `list` and `show`. */
export function describeConfig(config: LifecycleConfig): string {
  const lines = [
    `${config.asg}`,
    `  bootstrap     ${config.bootstrap ?? '-'}`,
    `  decommission  ${config.decommission ?? '-'}`,
    `  requires      ${config.requires ? `${config.requires.count} in service in ${config.requires.group}` : '-'}`,
    `  timeout       ${config.timeoutSec} s`,
    `  updated       ${new Date(config.updatedAt).toISOString()} by ${config.updatedBy}`,
  ];
  return lines.join('\n');
}
