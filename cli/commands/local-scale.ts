/**
 * `drover local scale <group> --to N`: resizes a group of the local stack's Auto Scaling, whose
 * instances are demo agents. It makes the same SetDesiredCapacity call one would make in AWS; the
 * local Auto Scaling then launches or terminates agents and emits the lifecycle and state-change
 * events AWS would, so drover's lifecycle hooks run as they do in the cloud.
 */
import type { Command } from 'commander';
import { EXIT, type CommandHost } from '../context.ts';
import { CliError } from '../errors.ts';
import { wholeNumber } from '../option-parsers.ts';

const HELP = `
Examples:
  $ drover lifecycle set web --bootstrap 'echo bootstrapped > /tmp/drover-$DROVER_IDENTITY'
  $ drover local scale web --to 4      launch instances: each joins, is bootstrapped, goes into service
  $ drover events --follow             watch it happen
  $ drover local scale web --to 1      terminate the newest three (decommissioned first, if configured)

The local groups are web and db (0 to 20 instances each). Instances are agent processes of the
running local stack (node id = instance id, facts role and asg = the group); their log is
.drover/local/instances.log.`;

/**
 * `drover local`'s own options (--agents, --heartbeat, --persist) start a stack; they mean nothing
 * to `scale`, which talks to a running one. Its help lists only the program's global options, and
 * one of them given here is refused rather than silently ignored.
 */
function startOptionsGiven(local: Command): string[] {
  return local.options
    .filter((option) => local.getOptionValueSource(option.attributeName()) === 'cli')
    .map((option) => option.long ?? option.flags);
}

export function register(program: Command, host: CommandHost): void {
  const local = program.commands.find((c) => c.name() === 'local');
  // A program built without the local component (tests of the CLI alone) has no `local` to extend.
  if (!local) return;
  local
    .command('scale')
    .configureHelp({
      showGlobalOptions: true,
      visibleGlobalOptions: () => program.options.filter((option) => !option.hidden),
    })
    .description("resize a group of the local stack's Auto Scaling (instances are demo agents)")
    .argument('<group>', 'local Auto Scaling group: web or db')
    .requiredOption('--to <n>', 'instances wanted', wholeNumber('--to'))
    .addHelpText('after', HELP)
    .action(async (group: string, flags: { to: number }) => {
      const { withStack } = await import('../stack.ts');
      const { SetDesiredCapacityCommand, DescribeAutoScalingGroupsCommand } =
        await import('@aws-sdk/client-auto-scaling');
      const { autoScalingOf } = await import('../lifecycle-admin.ts');
      const ctx = host.context();
      const misplaced = startOptionsGiven(local);
      if (misplaced.length > 0) {
        throw new CliError(
          `${misplaced.join(', ')}: an option of \`drover local\` (starting the stack), not of \`drover local scale\``,
          EXIT.invalid,
        );
      }
      await withStack(ctx.stack, async (conn) => {
        if (!conn.local) throw new CliError('drover local scale resizes groups of the local stack only', 4);
        const client = autoScalingOf(conn);
        try {
          await client
            .send(new SetDesiredCapacityCommand({ AutoScalingGroupName: group, DesiredCapacity: flags.to }))
            .catch((error: unknown) => {
              throw new CliError(error instanceof Error ? error.message : String(error), 4, { cause: error });
            });
          const out = await client.send(
            new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
          );
          for (const instance of out.AutoScalingGroups?.[0]?.Instances ?? []) {
            ctx.io.out(`${instance.InstanceId}  ${instance.LifecycleState}\n`);
          }
        } finally {
          client.destroy();
        }
      });
      host.done(EXIT.ok);
    });
}
