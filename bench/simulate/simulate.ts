/**
 * `npm run bench -- --simulate N`: one run across a simulated fleet of N hosts on the embedded
 * stack, with an AWS latency profile (bench/aws-latency.json) injected on every SQS and DynamoDB
 * call and added, per call counted, for Step Functions, Lambda and KMS. What it measures and what
 * it models is said beside each figure (docs/scale.md has the tables).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LOCAL_FLEET_KEY } from '#shared/local-principals.ts';
import { PROJECT_ROOT } from '#local/stack.ts';
import { seedFleet, type SimulatedFleet } from './fleet.ts';
import { measurePlanMemory } from './plan-memory.ts';
import { runFigures, type Profile, type SimulationReport } from './figures.ts';
import { startEnvironment, type SimulationEnvironment } from './environment.ts';
import { runOnce } from './run-once.ts';
import { FleetThread, mergeCounts } from './fleet-thread.ts';
import type { ServiceProfile } from './latency-proxy.ts';
import { reportText } from './report.ts';

export interface SimulateOptions {
  hosts: number;
  latencyFile: string;
  latencyScale: number;
  json: boolean;
  home?: string;
  /** Compare with reading the whole table at once (skipped above this many hosts: it is what does not fit). */
  wholeScanUpTo: number;
}

export function loadProfile(file: string): Profile {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { calls?: Profile };
  if (!parsed.calls?.sqs || !parsed.calls.dynamodb) {
    throw new Error(
      `${file}: a latency profile needs calls.sqs and calls.dynamodb (see bench/aws-latency.json)`,
    );
  }
  return parsed.calls;
}

/** How long the fleet may take to open its first long polls (one per host) before the run. */
const POLLS_OPEN_TIMEOUT_MS = 120_000;

const log = (text: string) => process.stderr.write(`${text}\n`);

/** Writes the simulated fleet's node items and inboxes, around the proxies (setup is not the run). */
async function seed(env: SimulationEnvironment, hosts: number): Promise<SimulatedFleet> {
  const { file } = env.stack;
  const started = Date.now();
  log(`seeding ${hosts} hosts with 2–20 KB of facts each…`);
  const fleet = await seedFleet(hosts, {
    db: env.direct.db,
    sqs: env.direct.sqs,
    nodesTable: file.nodesTable,
    stage: file.stage,
    inboxUrl: env.viaProxy,
  });
  log(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s; measuring Plan's read of the table…`);
  return fleet;
}

/**
 * The fake agents, in their own thread (fleet-thread.ts): one thread speaking for many simulated
 * hosts, signing as the local fleet principal (as the demo fleet does), each call delayed by the
 * profile, one connection per long poll as a real fleet's but no socket each (memory-connection.ts).
 */
function startAgents(env: SimulationEnvironment, fleet: SimulatedFleet, profile: Profile, scale: number) {
  const { file } = env.stack;
  return new FleetThread({
    fleet,
    repliesQueueUrl: env.viaProxy(file.repliesQueueUrl),
    region: file.region,
    credentials: { ...file.credentials, accessKeyId: LOCAL_FLEET_KEY },
    // The queue URLs name the proxy: the same host here, or the SDK warns on every call (it uses the
    // QueueUrl's host); the connections go over the port whatever the host.
    endpoint: env.sqsProxy.url,
    profile: profile.sqs as ServiceProfile,
    latencyScale: scale,
    accept: env.stack.acceptSqsConnection,
  });
}

/**
 * Resolves once `count` receives are waiting at the proxy (every host's first long poll is open),
 * so the run does not start while the fleet is still connecting; rejects after `timeoutMs`.
 */
export async function pollsOpen(
  proxy: { inFlight: Map<string, number> },
  count: number,
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = proxy.inFlight.get('ReceiveMessage') ?? 0;
    if (open >= count) return;
    if (Date.now() > deadline) {
      throw new Error(`the simulated fleet opened ${open} of ${count} long polls in ${timeoutMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function simulate(options: SimulateOptions): Promise<SimulationReport> {
  const profile = loadProfile(resolve(options.latencyFile));
  const env = await startEnvironment(profile, options.latencyScale, options.home, log);
  let agents: FleetThread | undefined;
  try {
    const fleet = await seed(env, options.hosts);
    const { file } = env.stack;
    const memory = await measurePlanMemory(
      env.direct.db,
      file.nodesTable,
      options.hosts <= options.wholeScanUpTo,
    );
    agents = startAgents(env, fleet, profile, options.latencyScale);
    await pollsOpen(agents, options.hosts, POLLS_OPEN_TIMEOUT_MS);
    log(`${options.hosts} long polls open`);
    await agents.reset();
    env.sqsProxy.reset();
    env.dbProxy.reset();
    const outcome = await runOnce(env, options.hosts, log);
    const fleetCalls = await agents.snapshot();
    return runFigures({
      ...outcome,
      hosts: options.hosts,
      fleet,
      agents: fleetCalls.times,
      sqs: mergeCounts(env.sqsProxy.snapshot(), fleetCalls.counts),
      dynamodb: env.dbProxy.snapshot(),
      memory,
      profile,
      latencyScale: options.latencyScale,
    });
  } catch (error: unknown) {
    // Said before the teardown: a handler still at work when the emulators close can crash the
    // process (dynalite throws from a timer), which would hide why the run stopped.
    log(`simulation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    throw error;
  } finally {
    await agents?.stop();
    await env.stop();
  }
}

export async function simulateMain(options: SimulateOptions): Promise<number> {
  const report = await simulate(options);
  process.stdout.write(options.json ? JSON.stringify(report, null, 2) + '\n' : reportText(report));
  return report.ok ? 0 : 1;
}

export const DEFAULT_LATENCY_FILE = join(PROJECT_ROOT, 'bench', 'aws-latency.json');
