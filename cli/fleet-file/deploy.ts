/**
 * `drover fleet deploy <group>` (the notes' `instance:deploy`): the group's bootstrap command
 * again on every in-service host of the group, in rolling batches, as a normal `drover run`.
 */
import type { HostCount } from '#shared/messages.ts';
import type { CommandContext } from '../context.ts';
import { CliError } from '../errors.ts';
import type { RunCommandFlags } from '../actions/run.ts';
import { groupOf, readFleet, type FleetFileFlags } from './source.ts';

/** A rolling deploy's defaults: a quarter of the group at a time, stop at the first failure. */
export const DEPLOY_DEFAULTS = { batch: '25%' as HostCount, maxErrors: 0 as HostCount, timeout: 900 };

export interface DeployFlags extends FleetFileFlags, Omit<RunCommandFlags, 'group' | 'ordinal' | 'nodes'> {}

/** Runs the group's bootstrap on its hosts; resolves with `drover run`'s exit code. */
export async function deployCommand(name: string, flags: DeployFlags, ctx: CommandContext): Promise<number> {
  const fleet = await readFleet(flags);
  const group = groupOf(fleet, name);
  if (group.bootstrap === undefined) {
    throw new CliError(
      `${fleet.file}: group ${name} has no bootstrap command to deploy: give it bootstrap, or a run_list (then chef-client runs its role)`,
    );
  }
  const { file: _file, ...runFlags } = flags;
  const batch = flags.batch ?? DEPLOY_DEFAULTS.batch;
  const maxErrors = flags.maxErrors ?? DEPLOY_DEFAULTS.maxErrors;
  if (!flags.json && !flags.jsonl) {
    ctx.io.err(
      `Deploying ${name} (${fleet.file}): ${group.bootstrap}\n` +
        `  on its in-service hosts, ${batch} at a time, no batch after more than ${maxErrors} failed\n`,
    );
  }
  // The run module (and the AWS SDK with it) loads only now: `drover fleet --help` stays quick.
  const { runCommand } = await import('../actions/run.ts');
  return runCommand(
    group.bootstrap,
    {
      ...runFlags,
      group: group.name,
      batch,
      maxErrors,
      timeout: flags.timeout ?? DEPLOY_DEFAULTS.timeout,
    },
    ctx,
  );
}
