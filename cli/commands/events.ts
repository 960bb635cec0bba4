/**
 * `drover events`: the stage's timeline (nodes joining, lost, returning, terminated; runs;
 * lifecycle hooks) from the durable event log the control plane writes.
 */
import type { Command } from 'commander';
import { EXIT, type CommandContext, type CommandHost } from '../context.ts';
import { CliError } from '../errors.ts';
import { collect } from '../common-options.ts';

export interface EventsFlags {
  follow?: boolean;
  since: string;
  type?: string[];
  node?: string[];
  json?: boolean;
  jsonl?: boolean;
}

const HELP = `
Events (each documented in docs/events.md): Node Joined, Node Lost, Node Returned, Node Stopped,
Node Terminated, Bootstrap Started/Succeeded/Failed, Decommission Started/Finished,
Run Started, Run Completed, Run Failed.

Examples:
  $ drover events                               the last hour, oldest first
  $ drover events --follow                      then every new event as it lands (Ctrl-C stops)
  $ drover events --since 7d --type node-lost   which hosts were lost this week
  $ drover events --node web-3 --since 1d       one host's history
  $ drover events --since 1d --jsonl | jq -r 'select(.type=="Run Completed") | .runId'

A host is lost after 3 missed heartbeats by default (the reaper runs every minute); EC2 stops and
terminations are marked at once. Events are kept 30 days.`;

export function register(program: Command, host: CommandHost): void {
  program
    .command('events')
    .description("the stage's timeline: nodes joining, lost and leaving, runs, lifecycle hooks")
    .option('-f, --follow', 'keep printing new events as they land (Ctrl-C stops)')
    .option('--since <when>', 'from this long ago (90s, 15m, 1h, 7d) or this time (ISO 8601)', '1h')
    .option('--type <type>', 'only events of this type (repeatable): "Node Lost" or node-lost', collect)
    .option('--node <name>', 'only events about this host, by identity or node id (repeatable)', collect)
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .option('--jsonl', 'one JSON object per event per line (works with --follow)')
    .addHelpText('after', HELP)
    .action(async (flags: EventsFlags) => host.done(await eventsCommand(flags, host.context())));
}

export async function eventsCommand(flags: EventsFlags, ctx: CommandContext): Promise<number> {
  const { parseEventType, parseSince, keepEvent, eventLine, eventJson, followLog } =
    await import('../event-timeline.ts');
  const { EventLog } = await import('#shared/event-log.ts');
  const { withStack } = await import('../stack.ts');
  if (flags.json && (flags.follow || flags.jsonl)) {
    throw new CliError('--json prints one document at the end; with --follow or for streams use --jsonl');
  }
  const since = parseSince(flags.since, Date.now());
  const filter = { types: (flags.type ?? []).map(parseEventType), nodes: flags.node ?? [] };
  const { io } = ctx;
  return withStack(ctx.stack, async (conn) => {
    if (!conn.eventsTable) {
      throw new CliError(
        `stage ${conn.stage} has no event log: redeploy it (npx sls deploy --stage ${conn.stage}) or restart the local stack`,
      );
    }
    const log = new EventLog(conn.db, conn.eventsTable);
    const print = (event: Parameters<typeof eventLine>[0]) =>
      io.out((flags.jsonl ? JSON.stringify(eventJson(event)) : eventLine(event)) + '\n');
    if (flags.follow) {
      let stopped = false;
      const undo = io.onInterrupt(() => (stopped = true));
      try {
        await followLog(log, since, { filter, print, stopped: () => stopped });
      } finally {
        undo();
      }
      return EXIT.ok;
    }
    const events = (await log.between(since, Date.now() + 60_000)).filter((e) => keepEvent(e, filter));
    if (flags.json) {
      io.out(
        JSON.stringify({ since: new Date(since).toISOString(), events: events.map(eventJson) }, null, 2) +
          '\n',
      );
    } else {
      events.forEach(print);
      if (!flags.jsonl && events.length === 0) io.err(`No events since ${new Date(since).toISOString()}.\n`);
    }
    return EXIT.ok;
  });
}
