/**
 * `drover fleet …`: the fleet file (fleet.yaml), every node group in one file, and what is
 * rendered from it: the merged group, its Chef role, its Packer template, its JSON Schema.
 * Each subcommand reads ./fleet.yaml unless an argument, --file or DROVER_FLEET names another.
 */
import { Command, Option } from 'commander';
import type { CommandHost } from '../context.ts';
import { addFilterOptions } from '../common-options.ts';
import { addRunOptions, addRunOutputOptions, runOption } from '../run-options.ts';
import { addProgressOptions, progressFlag } from '../output/options.ts';

const render = () => import('../fleet-file/render.ts');

const FILE_NOTE = `
The fleet file: ./fleet.yaml, unless --file or DROVER_FLEET names another. docs/fleet.md has
its keys and merge rules; examples/fleet.yaml is a whole one.`;

const HELP = {
  fleet: `
Examples:
  $ drover fleet validate                          check ./fleet.yaml
  $ drover fleet show 12_04-bee                    the merged group, each value with its origin
  $ drover fleet role --write roles/               one Chef role JSON per group
  $ drover fleet packer 12_04-bee > bee.pkr.hcl    a Packer template for the group
  $ drover fleet deploy 12_04-bee --batch 2        its bootstrap again, two hosts at a time
  $ drover fleet hosts nucleus                     its hosts, numbered as --ordinal counts them
  $ drover fleet apply                             store every group's lifecycle configuration
  $ drover fleet diff                              the file against what the stage holds
${FILE_NOTE}`,
  validate: `
Every problem is reported with its file, line and column; the exit code is 4 if there is any.

Examples:
  $ drover fleet validate
  $ drover fleet validate examples/fleet.yaml
  $ DROVER_FLEET=prod/fleet.yaml drover fleet validate --json | jq '.problems[].message'
${FILE_NOTE}`,
  show: `
Each line ends with where its value came from: __base__, a group it inherits, the group itself,
or "default" (a bootstrap drover fills in: chef-client on the group's role).

Examples:
  $ drover fleet show 12_04-bee
  $ drover fleet show body --json | jq .settings.autoscale
${FILE_NOTE}`,
  role: `
The role is named role-<group>; its run list is the merged run_list, then the post_run_list.

Examples:
  $ drover fleet role 12_04-bee
  $ drover fleet role --write roles/               roles/role-<group>.json for every group
  $ drover fleet role 12_04-www --write roles/     just that one
${FILE_NOTE}`,
  packer: `
One source block from the group's type, region, source_ami, instance_type, ssh_username and
packer: settings, tagged group=<group>, with a timestamped AMI name. No credentials: Packer reads
its own (environment, ~/.aws, instance role).

Examples:
  $ drover fleet packer 12_04-bee > 12_04-bee.pkr.hcl && packer build 12_04-bee.pkr.hcl
  $ drover fleet packer 12_04-bee --format json    the legacy JSON template
  $ drover fleet packer --write packer/            packer/<group>.pkr.hcl for every group
${FILE_NOTE}`,
  deploy: `
The group's bootstrap command (shown by drover fleet show; chef-client on the group's role when
the file gives a run_list and no bootstrap) runs on every in-service host of the group (hosts
whose group fact is the group and that heartbeat), as drover run would: same output, same exit
codes, same run record (drover runs, drover show). Defaults for a rolling deploy: --batch 25%,
--max-errors 0 (no batch starts after a failure), --timeout 900.

Examples:
  $ drover fleet deploy 12_04-bee
  $ drover fleet deploy 12_04-bee --batch 1 --batch-sleep 30
  $ drover fleet deploy body --batch 10% --max-errors 2 -F az=us-east-1a
  $ drover fleet deploy nucleus --json | jq '.summary'
${FILE_NOTE}`,
  hosts: `
Hosts are in the order they joined (their first heartbeat), identity breaking ties; the number
is the one drover run --group <group> --ordinal <n> addresses. The order holds while the group's
membership does: a host that leaves or goes stale moves the later ones up. Reads the facts table
of the stage; the fleet file is not needed.

Examples:
  $ drover fleet hosts nucleus
  $ drover fleet hosts body --json | jq -r '.hosts[0].identity'
  $ drover run 'zk-list-nodes' --group body --ordinal 0`,
  apply: `
For every group with autoscale.asg: stores its lifecycle configuration (bootstrap, decommission,
requires, and autoscale.timeout as the timeout) as drover lifecycle set does, and puts the hooks
drover-<stage>-launch and drover-<stage>-terminate on its Auto Scaling group. The plan comes
first (create, update or unchanged per group, and which hooks go on); apply asks before changing
anything, unless --yes (without a terminal to ask on, --yes is required). Applying the same file
twice changes nothing the second time. Configurations no group of the file names are left alone
(drover lifecycle remove). Each group's reactions are stored too (also without an ASG), and
removed when the file no longer has them. Exit 1 if you answer no.

Examples:
  $ drover fleet apply
  $ drover fleet apply --file examples/fleet.yaml --yes
  $ drover fleet apply --yes --json | jq '.plan.groups[] | {group, action}'
${FILE_NOTE}`,
  diff: `
Per group with autoscale.asg: missing (the stage has no configuration for it), changed (with each
field, stored and in the file), equal; hooks missing; extra configurations the stage holds that
no group names; and each group's reactions (missing, changed, extra). Exit 0 when the file and the stage agree, 1 when they differ.

Examples:
  $ drover fleet diff
  $ drover fleet diff --json | jq '.groups[] | select(.state != "equal")'
  $ drover fleet diff --file prod/fleet.yaml || drover fleet apply --file prod/fleet.yaml
${FILE_NOTE}`,
  schema: `
Point an editor at it: "# yaml-language-server: $schema=docs/fleet.schema.json" as the first line
of fleet.yaml, or "$schema" in a JSON one. docs/fleet.schema.json is this output.

Examples:
  $ drover fleet schema > fleet.schema.json`,
};

const fileOption = () =>
  new Option('-f, --file <path>', 'the fleet file (default: $DROVER_FLEET or ./fleet.yaml)');
const jsonOption = () => new Option('-j, --json', 'one JSON document (only data on stdout)');

/** Registers `drover fleet` and its subcommands. */
export function register(program: Command, host: CommandHost): void {
  const fleet = program
    .command('fleet')
    .description('the fleet file: validate it, show a merged group, render Chef roles and Packer templates')
    .addHelpText('after', HELP.fleet);

  registerFileCommands(fleet, host);
  registerDeploy(fleet, host);
  registerStageCommands(fleet, host);

  fleet
    .command('schema')
    .description("the fleet file's JSON Schema, for editors")
    .addHelpText('after', HELP.schema)
    .action(async () => {
      host.done((await render()).fleetSchemaCommand(host.context()));
    });
}

/** What reads the fleet file alone: `validate`, `show`, `role`, `packer`. */
function registerFileCommands(fleet: Command, host: CommandHost): void {
  fleet
    .command('validate')
    .description('check the fleet file: syntax, keys, types, inheritance, barriers')
    .argument('[file]', 'the fleet file (default: --file, $DROVER_FLEET or ./fleet.yaml)')
    .addOption(fileOption())
    .addOption(jsonOption())
    .addHelpText('after', HELP.validate)
    .action(async (file: string | undefined, flags: { file?: string; json?: boolean }) => {
      host.done(await (await render()).validateCommand(file, flags, host.context()));
    });

  fleet
    .command('show')
    .description('the group after inheritance, with where each value came from')
    .argument('<group>', 'a group of the fleet file')
    .addOption(fileOption())
    .addOption(jsonOption())
    .addHelpText('after', HELP.show)
    .action(async (group: string, flags: { file?: string; json?: boolean }) => {
      host.done(await (await render()).showCommand(group, flags, host.context()));
    });

  fleet
    .command('role')
    .description("the group's Chef role JSON (role-<group>)")
    .argument('[group]', 'a group of the fleet file (with --write and no group: every group)')
    .addOption(fileOption())
    .option('-w, --write <dir>', 'write role-<group>.json files into this directory')
    .addOption(jsonOption())
    .addHelpText('after', HELP.role)
    .action(async (group: string | undefined, flags: { file?: string; write?: string; json?: boolean }) => {
      host.done(await (await render()).roleCommand(group, flags, host.context()));
    });

  fleet
    .command('packer')
    .description("a Packer template building the group's image")
    .argument('[group]', 'a group of the fleet file (with --write and no group: every group)')
    .addOption(fileOption())
    .addOption(
      new Option('--format <format>', 'hcl (HCL2) or json (legacy JSON template)')
        .choices(['hcl', 'json'])
        .default('hcl'),
    )
    .option('-w, --write <dir>', 'write <group>.pkr.hcl (or .pkr.json) files into this directory')
    .addOption(jsonOption())
    .addHelpText('after', HELP.packer)
    .action(
      async (
        group: string | undefined,
        flags: { file?: string; write?: string; json?: boolean; format: 'hcl' | 'json' },
      ) => {
        host.done(await (await render()).packerCommand(group, flags, host.context()));
      },
    );
}

/** What holds the fleet file against the stage: `apply`, `diff`, `hosts`. */
function registerStageCommands(fleet: Command, host: CommandHost): void {
  fleet
    .command('apply')
    .description("store every group's lifecycle configuration and put drover's hooks on its ASG")
    .addOption(fileOption())
    .option('-y, --yes', 'apply without asking')
    .addOption(jsonOption())
    .addHelpText('after', HELP.apply)
    .action(async (flags: { file?: string; yes?: boolean; json?: boolean }) => {
      const { applyCommand } = await import('../fleet-file/apply.ts');
      host.done(await applyCommand(flags, host.context()));
    });

  fleet
    .command('diff')
    .description('the fleet file against the lifecycle configuration the stage holds')
    .addOption(fileOption())
    .addOption(jsonOption())
    .addHelpText('after', HELP.diff)
    .action(async (flags: { file?: string; json?: boolean }) => {
      const { diffCommand } = await import('../fleet-file/apply.ts');
      host.done(await diffCommand(flags, host.context()));
    });

  fleet
    .command('hosts')
    .description("the group's in-service hosts in ordinal order (what --ordinal N picks from)")
    .argument('<group>', "a group name (the hosts' group fact)")
    .addOption(jsonOption())
    .addHelpText('after', HELP.hosts)
    .action(async (group: string, flags: { json?: boolean }) => {
      const { hostsCommand } = await import('../fleet-file/hosts.ts');
      host.done(await hostsCommand(group, flags, host.context()));
    });
}

/** `fleet deploy`: the options of a rolling `drover run`, with a deploy's defaults. */
function registerDeploy(fleet: Command, host: CommandHost): void {
  const deploy = fleet
    .command('deploy')
    .description("run the group's bootstrap again on every in-service host of it, in rolling batches")
    .argument('<group>', 'a group of the fleet file');
  addFilterOptions(deploy);
  deploy.addOption(fileOption());
  addRunOptions(deploy, [
    runOption.batch('25%'),
    runOption.maxErrors('0'),
    runOption.batchSleep(),
    runOption.timeout('the bootstrap', 900),
    runOption.discoveryTimeout(),
    runOption.ttl(),
    runOption.async(),
  ]);
  addRunOutputOptions(deploy);
  addProgressOptions(deploy)
    .addHelpText('after', HELP.deploy)
    .action(async (group: string, flags: Record<string, unknown>) => {
      const { deployCommand } = await import('../fleet-file/deploy.ts');
      host.done(
        await deployCommand(
          group,
          { ...flags, dt: flags.discoveryTimeout as number | undefined, progress: progressFlag(flags) },
          host.context(),
        ),
      );
    });
}
