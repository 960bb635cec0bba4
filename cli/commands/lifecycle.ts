/**
 * `drover lifecycle set|list|show|remove`: what drover runs on a host of an Auto Scaling group
 * when it launches (bootstrap) and before it terminates (decommission).
 */
import type { Command } from 'commander';
import { EXIT, type CommandHost } from '../context.ts';
import { CliError } from '../errors.ts';

const HELP_SET = `
Stores the group's lifecycle configuration and puts two lifecycle hooks on the group,
drover-<stage>-launch and drover-<stage>-terminate. From then on a launching instance waits until
its agent joins and the bootstrap command succeeded on it (CONTINUE; ABANDON on failure or
timeout), and a terminating one runs the decommission command first (then CONTINUE whatever its
outcome). Both run as normal runs: drover runs and drover show list them with their output.

Examples:
  $ drover lifecycle set web --bootstrap 'echo bootstrapped > /tmp/drover-$DROVER_IDENTITY'
  $ drover lifecycle set web --bootstrap '/opt/bin/provision' --decommission '/opt/bin/drain' --timeout 1200
  $ drover lifecycle set api --bootstrap 'chef-client -o role[api]' --requires zookeeper:3

--requires GROUP:N waits (within --timeout) until N hosts of GROUP are in service before the
bootstrap runs: ordered bootstrap, e.g. services that need a ZooKeeper ensemble first.`;

export function register(program: Command, host: CommandHost): void {
  const lifecycle = program
    .command('lifecycle')
    .description('bootstrap and decommission commands of Auto Scaling groups (launch and terminate hooks)');

  lifecycle
    .command('set')
    .description("set a group's bootstrap/decommission commands and put drover's hooks on it")
    .argument('<asg>', 'Auto Scaling group name')
    .option('--bootstrap <command>', 'run on each new instance (bash -c) before it goes into service')
    .option('--decommission <command>', 'run on each instance before it terminates')
    .option('--requires <group:n>', 'bootstrap only once N hosts of GROUP are in service')
    .option('--timeout <seconds>', 'each lifecycle action in all, 30 to 172800 (default 900)')
    .addHelpText('after', HELP_SET)
    .action(async (asg: string, flags: Record<string, string | undefined>) => {
      const { configFrom, setLifecycle, describeConfig } = await import('../lifecycle-admin.ts');
      const { withStack } = await import('../stack.ts');
      const ctx = host.context();
      const config = configFrom(asg, flags, Date.now());
      await withStack(ctx.stack, async (conn) => {
        await setLifecycle(conn, config);
        ctx.io.out(describeConfig(config) + '\n');
        ctx.io.err(`hooks drover-${conn.stage}-launch and drover-${conn.stage}-terminate are on ${asg}\n`);
      });
      host.done(EXIT.ok);
    });

  lifecycle
    .command('list')
    .description('every group with a lifecycle configuration')
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .action(async (flags: { json?: boolean }) => {
      const { storeOf, describeConfig } = await import('../lifecycle-admin.ts');
      const { withStack } = await import('../stack.ts');
      const ctx = host.context();
      await withStack(ctx.stack, async (conn) => {
        const configs = await storeOf(conn).list();
        if (flags.json) ctx.io.out(JSON.stringify({ groups: configs }, null, 2) + '\n');
        else if (configs.length === 0) ctx.io.err('No group has a lifecycle configuration.\n');
        else ctx.io.out(configs.map(describeConfig).join('\n\n') + '\n');
      });
      host.done(EXIT.ok);
    });

  lifecycle
    .command('show')
    .description("one group's lifecycle configuration")
    .argument('<asg>', 'Auto Scaling group name')
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .action(async (asg: string, flags: { json?: boolean }) => {
      const { storeOf, describeConfig } = await import('../lifecycle-admin.ts');
      const { withStack } = await import('../stack.ts');
      const ctx = host.context();
      await withStack(ctx.stack, async (conn) => {
        const config = await storeOf(conn).get(asg);
        if (!config)
          throw new CliError(`group "${asg}" has no lifecycle configuration (drover lifecycle list)`, 1);
        ctx.io.out((flags.json ? JSON.stringify(config, null, 2) : describeConfig(config)) + '\n');
      });
      host.done(EXIT.ok);
    });

  lifecycle
    .command('remove')
    .description("remove drover's hooks from a group and forget its configuration")
    .argument('<asg>', 'Auto Scaling group name')
    .action(async (asg: string) => {
      const { removeLifecycle } = await import('../lifecycle-admin.ts');
      const { withStack } = await import('../stack.ts');
      const ctx = host.context();
      const removed = await withStack(ctx.stack, (conn) => removeLifecycle(conn, asg));
      ctx.io.err(
        removed
          ? `removed the lifecycle configuration of ${asg}\n`
          : `${asg} had no lifecycle configuration\n`,
      );
      host.done(removed ? EXIT.ok : EXIT.noMatch);
    });
}
