/**
 * `drover fleet apply` and `drover fleet diff`: the fleet file's lifecycle configuration against
 * the control plane's. Apply stores each group's configuration and puts drover's hooks on its Auto
 * Scaling group through the same functions `drover lifecycle set` uses (cli/lifecycle-admin.ts).
 */
import { createInterface } from 'node:readline/promises';
import { callerName, EXIT, type CommandContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { reactionsTooBig } from '#shared/stores/reactions.ts';
import type { ConnectedStack } from '../stack.ts';
import { readFleet, type FleetFileFlags } from './source.ts';
import { describeReactions, desiredReactions, planReactions, type ReactionsPlan } from './reactions-plan.ts';
import { desiredConfigs, describePlan, planChanges, planFleet, type FleetPlan } from './lifecycle-plan.ts';

export interface ApplyFlags extends FleetFileFlags {
  yes?: boolean;
  json?: boolean;
}

/** Asks the question on the terminal; resolves true on y/yes. Undefined: no terminal to ask on. */
export type Confirm = (question: string) => Promise<boolean | undefined>;

export const terminalConfirm: Confirm = async (question) => {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
};

interface WholePlan {
  file: string;
  plan: FleetPlan;
  reactions: ReactionsPlan[];
}

const reactionChanges = (reactions: readonly ReactionsPlan[]) =>
  reactions.some((r) => r.action !== 'unchanged');

/** Reads the file and the control plane, and plans. */
async function planOf(conn: ConnectedStack, flags: FleetFileFlags): Promise<WholePlan> {
  const admin = await import('../lifecycle-admin.ts');
  const fleet = await readFleet(flags);
  const desired = desiredConfigs(fleet, Date.now(), callerName());
  const stored = await admin.storeOf(conn).list();
  const client = admin.autoScalingOf(conn);
  const hooksPresent = new Set<string>();
  try {
    for (const { config } of desired.desired) {
      if (await admin.droverHooksInPlace(client, conn.stage, config.asg)) hooksPresent.add(config.asg);
    }
  } finally {
    client.destroy();
  }
  const wanted = desiredReactions(fleet);
  for (const [group, want] of wanted) {
    const tooBig = reactionsTooBig({
      group,
      reactions: want.reactions,
      updatedAt: 0,
      updatedBy: callerName(),
    });
    if (tooBig) throw new CliError(`${fleet.file}: ${tooBig}`, EXIT.invalid);
  }
  const reactions = planReactions(wanted, await admin.reactionStoreOf(conn).list());
  return { file: fleet.file, plan: planFleet(desired, stored, hooksPresent), reactions };
}

/** Applies what the plan changes; every ASG named (and required) must exist before anything is written. */
async function applyPlan(conn: ConnectedStack, { plan, reactions }: WholePlan): Promise<void> {
  const admin = await import('../lifecycle-admin.ts');
  const todo = plan.groups.filter((g) => g.action !== 'unchanged' || g.hooksMissing);
  const names = todo.flatMap((g) => [g.asg, ...(g.config.requires ? [g.config.requires.group] : [])]);
  const missing = await admin.missingGroups(conn, names);
  if (missing.length > 0) {
    throw new CliError(
      `nothing applied: no Auto Scaling group named ${missing.map((m) => `"${m}"`).join(', ')} in ${conn.region}`,
      EXIT.invalid,
    );
  }
  for (const g of todo) await admin.setLifecycle(conn, g.config);
  const store = admin.reactionStoreOf(conn);
  for (const r of reactions) {
    if (r.action === 'remove') await store.remove(r.group);
    else if (r.action !== 'unchanged') {
      await store.put({
        group: r.group,
        ...(r.asg ? { targetAsg: r.asg } : {}),
        reactions: r.reactions,
        updatedAt: Date.now(),
        updatedBy: callerName(),
      });
    }
  }
}

export async function applyCommand(
  flags: ApplyFlags,
  ctx: CommandContext,
  confirm: Confirm = terminalConfirm,
): Promise<number> {
  const { withStack } = await import('../stack.ts');
  return withStack(ctx.stack, async (conn) => {
    const whole = await planOf(conn, flags);
    const { file, plan, reactions } = whole;
    const changes = planChanges(plan) || reactionChanges(reactions);
    const report = (applied: boolean) =>
      flags.json &&
      ctx.io.out(
        JSON.stringify({ file, stage: conn.stage, changes, applied, plan, reactions }, null, 2) + '\n',
      );
    if (!flags.json) {
      const lines = [describePlan(plan, conn.stage), ...describeReactions(reactions)].filter((l) => l !== '');
      ctx.io.err(`Plan for stage ${conn.stage} from ${file}:\n${lines.join('\n')}\n`);
    }
    if (!changes) {
      if (!flags.json) ctx.io.err('Nothing to change: the control plane already holds this fleet file.\n');
      report(false);
      return EXIT.ok;
    }
    if (!flags.yes) {
      const answer = await confirm(`Apply these changes to stage ${conn.stage}? [y/N] `);
      if (answer === undefined) {
        throw new CliError(
          'fleet apply changes the control plane and there is no terminal to confirm on: pass --yes to apply without asking',
          EXIT.invalid,
        );
      }
      if (!answer) {
        ctx.io.err('Not applied.\n');
        report(false);
        return EXIT.noMatch;
      }
    }
    await applyPlan(conn, whole);
    if (!flags.json) {
      const done = plan.groups.filter((g) => g.action !== 'unchanged' || g.hooksMissing).length;
      ctx.io.err(`Applied: ${done} group${done === 1 ? '' : 's'} stored, hooks in place.\n`);
    }
    report(true);
    return EXIT.ok;
  });
}

/** Exit code of `fleet diff` when the file and the control plane differ. */
export const DIFF_EXIT = EXIT.noMatch;

export async function diffCommand(
  flags: FleetFileFlags & { json?: boolean },
  ctx: CommandContext,
): Promise<number> {
  const { withStack } = await import('../stack.ts');
  return withStack(ctx.stack, async (conn) => {
    const { file, plan, reactions } = await planOf(conn, flags);
    const groups = plan.groups.map((g) => ({
      group: g.group,
      asg: g.asg,
      state: g.action === 'create' ? 'missing' : g.action === 'update' ? 'changed' : 'equal',
      ...(g.action === 'update' ? { changes: g.changes } : {}),
      hooks: g.hooksMissing ? 'missing' : 'in place',
    }));
    const extra = plan.extra.map((c) => c.asg);
    const reactionStates = reactions.map((r) => ({
      group: r.group,
      state: { create: 'missing', update: 'changed', remove: 'extra', unchanged: 'equal' }[r.action],
      reactions: r.reactions,
    }));
    const differs = planChanges(plan) || extra.length > 0 || reactionChanges(reactions);
    if (flags.json) {
      ctx.io.out(
        JSON.stringify(
          {
            file,
            stage: conn.stage,
            differs,
            groups,
            extra,
            withoutAsg: plan.withoutAsg,
            reactions: reactionStates,
          },
          null,
          2,
        ) + '\n',
      );
    } else {
      ctx.io.out(
        diffText(groups, extra) +
          reactionStates
            .filter((r) => r.state !== 'equal')
            .map((r) => `${r.state.padEnd(8)} reactions of ${r.group}\n`)
            .join(''),
      );
      ctx.io.err(
        differs ? `${file} and stage ${conn.stage} differ.\n` : `${file} and stage ${conn.stage} agree.\n`,
      );
    }
    return differs ? DIFF_EXIT : EXIT.ok;
  });
}

function diffText(
  groups: {
    group: string;
    asg: string;
    state: string;
    changes?: { field: string; stored: unknown; file: unknown }[];
    hooks: string;
  }[],
  extra: string[],
): string {
  const lines: string[] = [];
  for (const g of groups) {
    lines.push(`${g.state.padEnd(8)} ${g.group} (${g.asg})${g.hooks === 'missing' ? ', hooks missing' : ''}`);
    for (const c of g.changes ?? []) {
      lines.push(
        `    ${c.field}: stored ${JSON.stringify(c.stored) ?? '-'}, file ${JSON.stringify(c.file) ?? '-'}`,
      );
    }
  }
  for (const asg of extra) lines.push(`extra    ${asg} (stored, no group of the file names it)`);
  return lines.length ? lines.join('\n') + '\n' : '';
}
