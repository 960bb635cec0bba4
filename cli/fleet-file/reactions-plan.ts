/**
 * The reactions half of `fleet apply`/`fleet diff`: each group's `reactions` as the file gives
 * them (with the watched group's Auto Scaling group, which the membership events carry) against
 * the reactions the control plane holds. The file owns reactions: a group whose file entry has
 * none any more has its stored reactions removed.
 */
import type { FleetFile } from '#shared/fleet-file/index.ts';
import type { GroupReactions, StoredReaction } from '#shared/reactions.ts';

export type ReactionsPlan =
  | { action: 'create' | 'update' | 'unchanged'; group: string; reactions: StoredReaction[] }
  | { action: 'remove'; group: string; reactions: StoredReaction[] };

/** The reactions of every group of the file that has any, keyed by the reacting group. */
export function desiredReactions(fleet: FleetFile): Map<string, StoredReaction[]> {
  const out = new Map<string, StoredReaction[]>();
  for (const group of fleet.groups.values()) {
    const reactions = group.settings.reactions ?? [];
    if (reactions.length === 0) continue;
    out.set(
      group.name,
      reactions.map((r) => {
        const autoscale = fleet.groups.get(r.group)?.settings.autoscale;
        const asg = autoscale ? autoscale.asg : undefined;
        return { on: r.on, group: r.group, run: r.run, ...(asg ? { asg } : {}) };
      }),
    );
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function planReactions(
  desired: Map<string, StoredReaction[]>,
  stored: readonly GroupReactions[],
): ReactionsPlan[] {
  const byGroup = new Map(stored.map((g) => [g.group, g]));
  const plans: ReactionsPlan[] = [...desired].map(([group, reactions]) => {
    const current = byGroup.get(group);
    const action = !current ? 'create' : same(current.reactions, reactions) ? 'unchanged' : 'update';
    return { action, group, reactions };
  });
  for (const g of stored) {
    if (!desired.has(g.group)) plans.push({ action: 'remove', group: g.group, reactions: g.reactions });
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
