/**
 * The reactions half of `fleet apply`/`fleet diff`: each group's `reactions` as the file gives
 * them (with the watched group's Auto Scaling group, which the membership events carry) against
 * the reactions the control plane holds. The file owns reactions: a group whose file entry has
 * none any more has its stored reactions removed.
 */
import type { FleetFile } from '#shared/fleet-file/index.ts';
import type { GroupReactions, StoredReaction } from '#shared/stores/reactions.ts';

export interface ReactionsPlan {
  action: 'create' | 'update' | 'unchanged' | 'remove';
  group: string;
  /** The reacting group's Auto Scaling group: its hosts run the reactions (else the group fact). */
  asg?: string;
  reactions: StoredReaction[];
}

type Desired = Map<string, { asg?: string; reactions: StoredReaction[] }>;

const asgOf = (fleet: FleetFile, group: string): string | undefined => {
  const autoscale = fleet.groups.get(group)?.settings.autoscale;
  return autoscale ? autoscale.asg : undefined;
};

/** The reactions of every group of the file that has any, keyed by the reacting group. */
export function desiredReactions(fleet: FleetFile): Desired {
  const out: Desired = new Map();
  for (const group of fleet.groups.values()) {
    const reactions = group.settings.reactions ?? [];
    if (reactions.length === 0) continue;
    const asg = asgOf(fleet, group.name);
    out.set(group.name, {
      ...(asg ? { asg } : {}),
      reactions: reactions.map((r) => {
        const watched = asgOf(fleet, r.group);
        return { on: r.on, group: r.group, run: r.run, ...(watched ? { asg: watched } : {}) };
      }),
    });
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function planReactions(desired: Desired, stored: readonly GroupReactions[]): ReactionsPlan[] {
  const byGroup = new Map(stored.map((g) => [g.group, g]));
  const plans: ReactionsPlan[] = [...desired].map(([group, want]) => {
    const current = byGroup.get(group);
    const equal = current && same(current.reactions, want.reactions) && current.targetAsg === want.asg;
    return { action: !current ? 'create' : equal ? 'unchanged' : 'update', group, ...want };
  });
  for (const g of stored) {
    if (desired.has(g.group)) continue;
    plans.push({
      action: 'remove',
      group: g.group,
      reactions: g.reactions,
      ...(g.targetAsg ? { asg: g.targetAsg } : {}),
    });
  }
  return plans;
}

/** Lines of the plan: what each group reacts to. */
export function describeReactions(plans: readonly ReactionsPlan[]): string[] {
  return plans.flatMap((p) => [
    `${p.action.padEnd(9)} reactions of ${p.group}`,
    ...(p.action === 'unchanged'
      ? []
      : p.reactions.map((r) => `    on ${r.group} ${r.on}: ${JSON.stringify(r.run)}`)),
  ]);
}
