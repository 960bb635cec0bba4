/**
 * What `drover fleet apply` and `drover fleet diff` compare: each fleet group's lifecycle
 * configuration as the file gives it (the same record `drover lifecycle set` stores, keyed by the
 * group's Auto Scaling group) against what the control plane holds. Pure: no AWS calls here.
 */
import type { FleetFile, FleetGroup } from '#shared/fleet-file/index.ts';
import {
  InvalidLifecycleConfig,
  validateLifecycleConfig,
  type LifecycleConfig,
} from '#shared/stores/lifecycle-config.ts';
import { CliError } from '../errors.ts';
import { EXIT } from '../context.ts';

/** The fields a fleet file sets; `updatedAt`/`updatedBy` say who stored it, not what it is. */
export const COMPARED_FIELDS = ['bootstrap', 'decommission', 'requires', 'timeoutSec'] as const;
export type ComparedField = (typeof COMPARED_FIELDS)[number];

export interface DesiredConfig {
  /** The fleet group the configuration comes from. */
  group: string;
  config: LifecycleConfig;
}

/**
 * The configuration of every group that names an Auto Scaling group. A group without one has no
 * lifecycle hooks to read a configuration, so nothing is stored for it (the plan says so).
 * Barriers name fleet groups in the file and Auto Scaling groups in the store (the barrier counts
 * in-service hosts by their ASG): a required group needs an ASG of its own.
 */
export function desiredConfigs(
  fleet: FleetFile,
  now: number,
  caller: string,
): { desired: DesiredConfig[]; withoutAsg: string[] } {
  const desired: DesiredConfig[] = [];
  const withoutAsg: string[] = [];
  const problems: string[] = [];
  for (const group of fleet.groups.values()) {
    const asg = asgOf(group);
    if (asg === undefined) {
      withoutAsg.push(group.name);
      continue;
    }
    if (group.requires.length > 1) {
      problems.push(
        `${group.name}.requires: the lifecycle store holds one barrier per group; this group has ${group.requires.length} (${group.requires.map((r) => `${r.group}:${r.count}`).join(', ')})`,
      );
      continue;
    }
    const requirement = group.requires[0];
    const requiredAsg = requirement && asgOf(fleet.groups.get(requirement.group));
    if (requirement && requiredAsg === undefined) {
      problems.push(
        `${group.name}.requires: ${requirement.group} has no autoscale.asg, so its in-service hosts cannot be counted by the lifecycle barrier`,
      );
      continue;
    }
    try {
      const config = validateLifecycleConfig({
        asg,
        bootstrap: group.bootstrap,
        decommission: group.decommission,
        requires: requirement ? { group: requiredAsg, count: requirement.count } : undefined,
        timeoutSec: group.settings.autoscale ? group.settings.autoscale.timeout : undefined,
        updatedAt: now,
        updatedBy: caller,
      });
      desired.push({ group: group.name, config });
    } catch (error: unknown) {
      if (!(error instanceof InvalidLifecycleConfig)) throw error;
      problems.push(`${group.name}: ${error.message}`);
    }
  }
  if (problems.length > 0) {
    throw new CliError(
      `${fleet.file}: cannot store the lifecycle configuration:\n  ${problems.join('\n  ')}`,
      EXIT.invalid,
    );
  }
  return { desired, withoutAsg };
}

function asgOf(group: FleetGroup | undefined): string | undefined {
  const autoscale = group?.settings.autoscale;
  return autoscale ? autoscale.asg : undefined;
}

export interface FieldChange {
  field: ComparedField;
  /** What the control plane holds (undefined: not set). */
  stored: unknown;
  /** What the file says. */
  file: unknown;
}

export type GroupPlan =
  | { action: 'create'; group: string; asg: string; config: LifecycleConfig; hooksMissing: boolean }
  | {
      action: 'update';
      group: string;
      asg: string;
      config: LifecycleConfig;
      changes: FieldChange[];
      hooksMissing: boolean;
    }
  | { action: 'unchanged'; group: string; asg: string; config: LifecycleConfig; hooksMissing: boolean };

export interface FleetPlan {
  groups: GroupPlan[];
  /** Groups without autoscale.asg: nothing is stored for them. */
  withoutAsg: string[];
  /** Configurations in the control plane that no group of the file names (left alone). */
  extra: LifecycleConfig[];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The fields that differ between the stored configuration and the file's. */
export function changedFields(stored: LifecycleConfig, file: LifecycleConfig): FieldChange[] {
  return COMPARED_FIELDS.filter((f) => !same(stored[f], file[f])).map((field) => ({
    field,
    stored: stored[field],
    file: file[field],
  }));
}

/**
 * The plan: per group create/update/unchanged, whether drover's hooks must be put on its ASG
 * (`hooksPresent` lists the ASGs that have both already), and the stored configurations no
 * group of the file names.
 */
export function planFleet(
  desired: { desired: DesiredConfig[]; withoutAsg: string[] },
  stored: readonly LifecycleConfig[],
  hooksPresent: ReadonlySet<string>,
): FleetPlan {
  const byAsg = new Map(stored.map((c) => [c.asg, c]));
  const groups = desired.desired.map(({ group, config }): GroupPlan => {
    const current = byAsg.get(config.asg);
    const hooksMissing = !hooksPresent.has(config.asg);
    if (!current) return { action: 'create', group, asg: config.asg, config, hooksMissing };
    const changes = changedFields(current, config);
    return changes.length > 0
      ? { action: 'update', group, asg: config.asg, config, changes, hooksMissing }
      : { action: 'unchanged', group, asg: config.asg, config: current, hooksMissing };
  });
  const named = new Set(desired.desired.map((d) => d.config.asg));
  return { groups, withoutAsg: desired.withoutAsg, extra: stored.filter((c) => !named.has(c.asg)) };
}

/** Whether applying the plan would change anything. */
export const planChanges = (plan: FleetPlan): boolean =>
  plan.groups.some((g) => g.action !== 'unchanged' || g.hooksMissing);

const show = (value: unknown): string =>
  value === undefined
    ? '-'
    : typeof value === 'object'
      ? JSON.stringify(value)
      : typeof value === 'string'
        ? JSON.stringify(value)
        : String(value);

/** The plan as `fleet apply` prints it before asking. */
export function describePlan(plan: FleetPlan, stage: string): string {
  const lines: string[] = [];
  for (const g of plan.groups) {
    const head = `${g.action.padEnd(9)} ${g.group} (Auto Scaling group ${g.asg})`;
    lines.push(head);
    if (g.action === 'create') {
      for (const field of COMPARED_FIELDS) lines.push(`    ${field}: ${show(g.config[field])}`);
    }
    if (g.action === 'update') {
      for (const c of g.changes) lines.push(`    ${c.field}: ${show(c.stored)} → ${show(c.file)}`);
    }
    if (g.hooksMissing) {
      lines.push(`    hooks: put drover-${stage}-launch and drover-${stage}-terminate on ${g.asg}`);
    }
  }
  for (const name of plan.withoutAsg) lines.push(`skip      ${name} (no autoscale.asg: no lifecycle hooks)`);
  for (const c of plan.extra) {
    lines.push(`extra     ${c.asg} (stored, not in the file; left alone: drover lifecycle remove ${c.asg})`);
  }
  return lines.join('\n');
}
