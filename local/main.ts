/**
 * `drover local` (`npm start`): the embedded stack with demo agents, in the foreground until
 * Ctrl-C or SIGTERM, which stop everything it started.
 */
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { createDynamoClient } from '#shared/aws.ts';
import { startLocalStack, PROJECT_ROOT } from './stack.ts';
import { startDemoFleet, type DemoFleet } from './demo-fleet.ts';

export interface LocalCommandOptions {
  home: string;
  agents: number;
  heartbeat: number;
  persist: boolean;
  out: (text: string) => void;
  /** How Ctrl-C reaches the command: the CLI owns SIGINT (it exits on one nobody asked for). */
  onInterrupt: (handler: () => void) => void;
}

async function waitForNodes(
  stack: Awaited<ReturnType<typeof startLocalStack>>,
  count: number,
  timeoutMs: number,
): Promise<number> {
  const db = createDynamoClient({
    region: stack.file.region,
    endpoints: stack.file.endpoints,
    credentials: stack.file.credentials,
  });
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  try {
    while (Date.now() < deadline) {
      seen = await new NodesStore(db, stack.file.nodesTable).count();
      if (seen >= count) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    db.destroy();
  }
  return seen;
}

export async function main(options: LocalCommandOptions): Promise<void> {
  const stack = await startLocalStack({
    home: options.home,
    persist: options.persist,
    onError: (error) =>
      process.stderr.write(`local stack: ${error instanceof Error ? error.message : error}\n`),
  });
  let fleet: DemoFleet | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (signal: string) =>
    (stopping ??= (async () => {
      options.out(`\n${signal}: stopping…\n`);
      await fleet?.stop();
      await stack.stop();
      options.out('stopped.\n');
      process.exit(0);
    })());
  options.onInterrupt(() => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const { file } = stack;
  options.out(`drover local stack (stage "${file.stage}") is up:\n`);
  options.out(`  SQS             ${file.endpoints.sqs}\n`);
  options.out(`  DynamoDB        ${file.endpoints.dynamodb}\n`);
  options.out(`  Step Functions  ${file.endpoints.sfn}\n`);
  options.out(`  Scheduler       ${file.endpoints.scheduler}\n`);
  options.out(`  stack file      ${options.home}/local.json\n`);
  if (options.agents > 0) {
    fleet = startDemoFleet({
      home: options.home,
      root: PROJECT_ROOT,
      count: options.agents,
      heartbeatSec: options.heartbeat,
    });
    const joined = await waitForNodes(stack, options.agents, 60_000);
    const names = fleet.hosts.slice(0, 6).map((h) => h.identity);
    const more = fleet.hosts.length > 6 ? `, … (${fleet.hosts.length} in all)` : '';
    options.out(
      `  demo agents     ${joined}/${options.agents} joined: ${names.join(', ')}${more} (pid ${fleet.pids.join(', ')})\n`,
    );
  }
  options.out(`\nTry, in another terminal:\n`);
  options.out(`  npx drover run 'hostname; uptime' -F role=web\n`);
  options.out(`  npx drover run 'echo hello from $(hostname)' -S 'role=db or class:nginx' --json\n`);
  options.out(`  npx drover schedule create tick --rate '1 minute' 'date'   (then: npx drover runs)\n`);
  options.out(`\nCtrl-C stops the stack and its agents.\n`);
}
