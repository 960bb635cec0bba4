/**
 * The faults, one function each: each drives real agents and real runs through one fault and
 * returns its line of the table (ChaosStack.measure reads what was recorded and what ran).
 */
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createSqsClient } from '#shared/aws.ts';
import { RunReader } from '#shared/stores/runs-reads.ts';
import { startDemoFleet } from '#local/demo-fleet.ts';
import { PROJECT_ROOT } from '#local/stack.ts';
import { DELIVERIES } from './sqs-proxy.ts';
import { sleep, type ChaosStack, type RunDocument, type Row } from './harness.ts';

export interface ScenarioOptions {
  /** How long the replies queue is unreachable. */
  outageSec: number;
  /** How long the agents' whole SQS endpoint is unreachable. */
  endpointDownSec: number;
  /** Concurrent runs and agents of the load scenario. */
  loadRuns: number;
  loadAgents: number;
}

export type Scenario = (c: ChaosStack, o: ScenarioOptions) => Promise<Row>;

async function agents(c: ChaosStack, prefix: string, count: number): Promise<string> {
  const role = `chaos-${prefix}`;
  await Promise.all(Array.from({ length: count }, (_, i) => c.startAgent(`${prefix}-${i + 1}`, role)));
  return role;
}

async function stopAgents(c: ChaosStack, prefix: string): Promise<void> {
  await Promise.all(
    [...c.agents.keys()].filter((id) => id.startsWith(`${prefix}-`)).map((id) => c.stopAgent(id)),
  );
}

function document(stdout: string): RunDocument {
  return JSON.parse(stdout) as RunDocument;
}

/** An agent SIGKILLed while its command runs, then started again: reported once, never run again. */
export const agentKilledMidCommand: Scenario = async (c) => {
  const role = await agents(c, 'kill', 2);
  const runId = await c.startRun([c.command('sleep 3'), '-W', `role=${role}`, '-t', '30', '--dt', '5']);
  await c.until(
    async () => ((c.executions().get(runId)?.size ?? 0) >= 2 ? true : undefined),
    30_000,
    'both commands to start',
  );
  await c.stopAgent('kill-1', 'SIGKILL');
  await c.restartAgent('kill-1');
  await c.waitFinished(runId);
  await sleep(2_000);
  const row = await c.measure('agent SIGKILL mid-command, restarted', [runId]);
  await stopAgents(c, 'kill');
  return row;
};

/** An agent stopped when the run starts and back within the window: runs it once. */
export const agentRestarted: Scenario = async (c) => {
  const role = await agents(c, 'restart', 1);
  await c.stopAgent('restart-1');
  const runId = await c.startRun([c.command(), '-W', `role=${role}`, '-t', '10', '--dt', '20']);
  await c.restartAgent('restart-1');
  await c.waitFinished(runId);
  const row = await c.measure('agent restart while a request waits', [runId]);
  await stopAgents(c, 'restart');
  return row;
};

/** An agent paused (SIGSTOP) past its acknowledgement window: reported no_response, never runs it. */
export const agentPaused: Scenario = async (c) => {
  const role = await agents(c, 'pause', 2);
  c.signal('pause-1', 'SIGSTOP');
  let out;
  try {
    out = await c.drover(['run', c.command(), '-W', `role=${role}`, '-t', '2', '--dt', '1', '--json']);
  } finally {
    c.signal('pause-1', 'SIGCONT');
  }
  const doc = document(out.stdout);
  // Long enough for the resumed agent to take the message and decide.
  await sleep(4_000);
  const row = await c.measure('agent paused past its window (-t 2 --dt 1)', [doc.runId], [doc]);
  await stopAgents(c, 'pause');
  return row;
};

/** Every inbox message and every reply delivered three times. */
export const everyMessageThrice: Scenario = async (c) => {
  const role = await agents(c, 'thrice', 3);
  c.proxy.mode = 'triple';
  const before = c.proxy.inboxDeliveries;
  try {
    const out = await c.drover(['run', c.command(), '-W', `role=${role}`, '-t', '10', '--dt', '5', '--json']);
    const doc = document(out.stdout);
    // The last copies come back a second apart after the run.
    await sleep(DELIVERIES * 1_500);
    const row = await c.measure(`every message delivered ${DELIVERIES} times`, [doc.runId], [doc]);
    row.notes.push(
      `${c.proxy.inboxDeliveries - before} inbox deliveries of ${row.hosts} requests; every reply sent ${DELIVERIES} times`,
    );
    return row;
  } finally {
    c.proxy.mode = 'pass';
    await stopAgents(c, 'thrice');
  }
};

/** The replies queue unreachable while results are due: kept by the agents, recorded when it is back. */
export const repliesQueueDown: Scenario = async (c, o) => {
  const role = await agents(c, 'outage', 2);
  const runId = await c.startRun([
    c.command('sleep 1'),
    '-W',
    `role=${role}`,
    '-t',
    String(o.outageSec + 60),
    '--dt',
    '10',
  ]);
  await c.until(
    async () => {
      const nodes = await new RunReader(c.db, c.stack.file.runsTable).queryNodes(runId);
      return nodes.length > 0 && nodes.every((n) => n.status === 'acked') ? true : undefined;
    },
    30_000,
    'every host to acknowledge',
  );
  c.proxy.mode = 'replies-down';
  await sleep(o.outageSec * 1_000);
  c.proxy.mode = 'pass';
  await c.waitFinished(runId);
  const row = await c.measure(`replies queue unreachable for ${o.outageSec} s`, [runId]);
  row.notes.push(`${c.proxy.refused} reply calls refused during the outage`);
  await stopAgents(c, 'outage');
  return row;
};

/** The agents' SQS endpoint gone (connections reset) while a request waits in their inboxes, then back. */
export const sqsEndpointDown: Scenario = async (c, o) => {
  const role = await agents(c, 'sqsdown', 2);
  c.proxy.mode = 'down';
  let runId: string;
  try {
    runId = await c.startRun([c.command(), '-W', `role=${role}`, '-t', '10', '--dt', '60']);
    await sleep(o.endpointDownSec * 1_000);
  } finally {
    c.proxy.mode = 'pass';
  }
  await c.waitFinished(runId);
  const row = await c.measure(`agents' SQS endpoint down for ${o.endpointDownSec} s`, [runId]);
  await stopAgents(c, 'sqsdown');
  return row;
};

/** Ingest failing between its two writes for a reply, then after them (an ADD applied, answered with an error). */
export const ingestFailing: Scenario = async (c) => {
  const role = await agents(c, 'ingest', 3);
  const before = c.dynamoProxy.injected;
  const runIds: string[] = [];
  const docs: RunDocument[] = [];
  try {
    for (const fault of ['between', 'after'] as const) {
      c.dynamoProxy.fault = fault;
      const out = await c.drover([
        'run',
        c.command(),
        '-W',
        `role=${role}`,
        '-t',
        '10',
        '--dt',
        '5',
        '--json',
      ]);
      const doc = document(out.stdout);
      runIds.push(doc.runId);
      docs.push(doc);
    }
  } finally {
    c.dynamoProxy.fault = 'pass';
  }
  if (c.dynamoProxy.injected === before)
    throw new Error('no fault reached ingest: the handlers do not use the proxy');
  const row = await c.measure('ingest failing between its writes, and after them', runIds, docs);
  row.notes.push(`${c.dynamoProxy.injected - before} counter writes failed`);
  await stopAgents(c, 'ingest');
  return row;
};

/** Malformed replies go to the dead-letter queue after five receives; none is lost. */
export const deadLetterPath: Scenario = async (c) => {
  const { file } = c.stack;
  const sqs = createSqsClient({
    region: file.region,
    endpoints: file.endpoints,
    credentials: file.credentials,
  });
  const depth = async () =>
    Number(
      (
        await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: file.deadLetterQueueUrl, AttributeNames: ['All'] }),
        )
      ).Attributes?.ApproximateNumberOfMessages ?? 0,
    );
  const before = await depth();
  const poison = ['not json', '{"v":1,"type":"result"}', '{"v":99,"type":"ack","runId":"x"}'];
  for (const body of poison)
    await sqs.send(new SendMessageCommand({ QueueUrl: file.repliesQueueUrl, MessageBody: body }));
  const row: Row = {
    scenario: 'malformed replies to the dead-letter queue',
    runs: 0,
    hosts: 0,
    expected: poison.length,
    recorded: 0,
    lost: 0,
    executions: 0,
    doubleExecutions: 0,
    lateAfterNoResponse: 0,
    wrongCounts: 0,
    notes: [],
  };
  try {
    await c.until(
      async () => ((await depth()) - before >= poison.length ? true : undefined),
      120_000,
      'the dead letters',
    );
  } catch (error: unknown) {
    row.notes.push(error instanceof Error ? error.message : String(error));
  }
  row.recorded = (await depth()) - before;
  row.lost = row.expected - row.recorded;
  sqs.destroy();
  return row;
};

/** Many operators each watching a run of the whole demo fleet at the same time. */
export const concurrentRuns: Scenario = async (c, o) => {
  const fleet = startDemoFleet({ home: c.home, root: PROJECT_ROOT, count: o.loadAgents, heartbeatSec: 60 });
  try {
    await c.until(
      async () => {
        const nodes = await Promise.all(
          fleet.hosts.map((h) =>
            c.db.send(new GetCommand({ TableName: c.stack.file.nodesTable, Key: { nodeId: h.identity } })),
          ),
        );
        return nodes.every((n) => n.Item) ? true : undefined;
      },
      120_000,
      `${o.loadAgents} demo agents to join`,
    );
    const outs = await Promise.all(
      Array.from({ length: o.loadRuns }, (_, i) =>
        c.drover(['run', c.command(`echo run ${i}`), '-S', 'role=web or role=db', '--json']),
      ),
    );
    const docs = outs.map((out) => document(out.stdout));
    const row = await c.measure(
      `${o.loadRuns} concurrent runs on ${o.loadAgents} agents`,
      docs.map((d) => d.runId),
      docs,
    );
    const complete = outs.filter((out) => out.code === 0).length;
    row.notes.push(`${complete} of ${o.loadRuns} runs succeeded on every host`);
    return row;
  } finally {
    await fleet.stop();
  }
};
