/**
 * Entry point of the agent process: one agent, or many logical agents in one process (load tests,
 * demo fleets). Joins the local stack described by `.drover/local.json`.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { createSqsClient } from '#shared/aws.ts';
import { publicKeyFrom } from '#shared/signing.ts';
import { readLocalStackFile } from '#shared/local-stack-file.ts';
import { Agent, defaultIdentity } from './agent.ts';
import { jsonLog, type LogLevel } from './json-log.ts';

export const AGENT_VERSION = '0.1.0';
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface AgentCommandOptions {
  home: string;
  identity?: string;
  nodeId?: string;
  facts: string[];
  classes: string[];
  factsCommand?: string;
  stateDir?: string;
  heartbeat: number;
  concurrency: number;
  outputCap: number;
  /** A JSON file listing many agents to host in this process. */
  hosts?: string;
  logLevel: LogLevel;
}

const hostsFileSchema = z.array(
  z.object({
    identity: z.string().min(1),
    nodeId: z.string().min(1).optional(),
    facts: z.array(z.string()).default([]),
    classes: z.array(z.string()).default([]),
  }),
);

export async function main(options: AgentCommandOptions): Promise<void> {
  const stack = readLocalStackFile(options.home);
  const log = jsonLog((line) => process.stdout.write(line), options.logLevel);
  const specs = options.hosts
    ? hostsFileSchema.parse(JSON.parse(readFileSync(options.hosts, 'utf8')))
    : [
        {
          identity: options.identity ?? defaultIdentity(),
          nodeId: options.nodeId,
          facts: options.facts,
          classes: options.classes,
        },
      ];
  const sqs = createSqsClient({
    region: stack.region,
    endpoints: stack.endpoints,
    credentials: stack.credentials,
    maxSockets: Math.max(64, specs.length * 2 + 16),
  });
  const publicKey = publicKeyFrom(readFileSync(stack.publicKeyPath, 'utf8'));
  const agents = specs.map((spec) => {
    const nodeId = spec.nodeId ?? spec.identity;
    const stateDir = resolve(
      specs.length === 1 && options.stateDir ? options.stateDir : join(stack.stateDir, 'agents', nodeId),
    );
    mkdirSync(stateDir, { recursive: true });
    return new Agent(
      {
        stage: stack.stage,
        nodeId,
        identity: spec.identity,
        repliesQueueUrl: stack.repliesQueueUrl,
        publicKey,
        stateDir,
        heartbeatSec: options.heartbeat,
        factsRefreshSec: 300,
        factFiles: spec.facts.map((f) => resolve(f)),
        classFiles: spec.classes.map((f) => resolve(f)),
        factsCommand: options.factsCommand,
        concurrency: options.concurrency,
        outputCapBytes: options.outputCap,
        killGraceMs: 2_000,
        pollWaitSec: 20,
        agentVersion: AGENT_VERSION,
        commandPath: process.env.PATH ?? DEFAULT_PATH,
      },
      { sqs, log: log.child({ nodeId, identity: spec.identity }) },
    );
  });

  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      log.info('stopping', { signal });
      await Promise.all(agents.map((a) => a.stop()));
      sqs.destroy();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  await Promise.all(agents.map((a) => a.start()));
  log.info('ready', { agents: agents.length, stage: stack.stage });
}
