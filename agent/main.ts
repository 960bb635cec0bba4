/**
 * Entry point of the agent process: one agent, or many logical agents in one process (load tests,
 * demo fleets), on a real host (`/etc/drover/agent.yaml`) or joining the local stack described by
 * `.drover/local.json`. SIGTERM/SIGINT stop it gracefully (exit 0), SIGHUP reloads config and facts.
 */
import pLimit from 'p-limit';
import { Agent } from './agent.ts';
import { CommandLauncher } from './many/command-launcher.ts';
import { ReplyBatcher } from './reply/reply-batcher.ts';
import { defaultRuntime, prepareAgents, type AgentCommandOptions, type Runtime } from './setup/startup.ts';

export { AGENT_VERSION, type AgentCommandOptions } from './setup/startup.ts';

/**
 * How long a reply of an agent sharing its process may wait for others to share its call
 * (ReplyBatcher): the launcher's commands end one after another, a few milliseconds apart, so
 * without it nearly every result went alone, one signed call each for the process and the stack.
 */
const SHARED_REPLY_LINGER_MS = 20;

/** Agents started at once: each creates its inbox and heartbeats on start. */
const START_PARALLELISM = 32;

export interface AgentProcessControl {
  /** Ends the process after a graceful stop; `process.exit` by default. */
  exit: (code: number) => void;
  /** Install SIGTERM/SIGINT/SIGHUP handlers; true by default. */
  handleSignals: boolean;
  /**
   * How Ctrl-C reaches the agent when a host program owns SIGINT (the `drover` CLI, which exits on
   * an interrupt nobody asked for); a SIGINT handler of its own otherwise.
   */
  onInterrupt?: (handler: () => void) => void;
}

export interface RunningAgents {
  agents: Agent[];
  /** Stops every agent (each with its shutdown grace) and releases the SQS client. */
  stop(): Promise<void>;
  /** Reloads the configuration and facts; a bad configuration is logged and the old one kept. */
  reload(): Promise<void>;
}

/**
 * Starts the agents `options` describe and returns once they are polling. Throws
 * `AgentConfigError` (one line per problem, no stack needed) when the configuration is unusable.
 */
export async function main(
  options: AgentCommandOptions,
  runtime: Runtime = defaultRuntime(),
  control: AgentProcessControl = { exit: (code) => process.exit(code), handleSignals: true },
): Promise<RunningAgents> {
  const prepared = await prepareAgents(options, runtime);
  const { log, sqs } = prepared;
  // Many agents in one process: their commands start from a small launcher process (see there why).
  const launcher =
    prepared.settings.length > 1
      ? new CommandLauncher({ onProblem: (problem) => log.error('command launcher lost', { problem }) })
      : undefined;
  launcher?.start();
  // Agents of one process send their replies together (see ReplyBatcher).
  const batchers = new Map<string, ReplyBatcher>();
  const lingerMs = prepared.settings.length > 1 ? SHARED_REPLY_LINGER_MS : 0;
  const repliesTo = (url: string) =>
    batchers.get(url) ?? batchers.set(url, new ReplyBatcher(sqs, url, { lingerMs })).get(url)!;
  const agents = prepared.settings.map(
    (settings) =>
      new Agent(settings, {
        sqs,
        log: log.child({ nodeId: settings.nodeId, identity: settings.identity }),
        replies: repliesTo(settings.repliesQueueUrl),
        ...(launcher ? { execute: launcher.execute } : {}),
      }),
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.all(agents.map((a) => a.stop()));
      await launcher?.close();
      sqs.destroy();
    })());

  let reloading = Promise.resolve();
  const reload = (): Promise<void> =>
    (reloading = reloading.then(async () => {
      try {
        const next = await prepared.reload();
        await Promise.all(agents.map((agent, i) => agent.reconfigure(next[i]!)));
      } catch (error: unknown) {
        log.error('reload failed; keeping the running configuration', {
          problem: error instanceof Error ? error.message : String(error),
        });
      }
    }));

  if (control.handleSignals) {
    const onStop = (signal: string) => {
      log.info('stopping', { signal });
      void stop().then(() => control.exit(0));
    };
    process.on('SIGTERM', () => onStop('SIGTERM'));
    if (control.onInterrupt) control.onInterrupt(() => onStop('SIGINT'));
    else process.on('SIGINT', () => onStop('SIGINT'));
    process.on('SIGHUP', () => {
      log.info('reloading', { signal: 'SIGHUP' });
      void reload();
    });
  }

  const limit = pLimit(START_PARALLELISM);
  try {
    await Promise.all(agents.map((agent) => limit(() => agent.start())));
  } catch (error: unknown) {
    log.error('an agent could not start', { error });
    await stop();
    throw error;
  }
  if (!stopping) log.info('ready', { agents: agents.length, stage: prepared.stage });
  return { agents, stop, reload };
}
