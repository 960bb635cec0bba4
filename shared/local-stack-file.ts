/**
 * `.drover/local.json`: how the CLI and agents find a running local stack (endpoints, names,
 * the public key agents verify requests with). Written by `drover local`, removed when it stops.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const localStackFileSchema = z.object({
  stage: z.string(),
  region: z.string(),
  pid: z.number().int(),
  startedAt: z.number().int(),
  credentials: z.object({ accessKeyId: z.string(), secretAccessKey: z.string() }),
  endpoints: z.object({
    sqs: z.string(),
    dynamodb: z.string(),
    sfn: z.string(),
    events: z.string(),
    scheduler: z.string().optional(),
    /** The local Auto Scaling (lifecycle hooks, `drover local scale`); absent in older files. */
    autoscaling: z.string().optional(),
    /** SSM Parameter Store (the published agent configuration); absent in older files. */
    ssm: z.string().optional(),
  }),
  stateMachines: z.record(z.string(), z.string()),
  nodesTable: z.string(),
  runsTable: z.string(),
  /** The event log (`drover events`); absent in files written before it existed. */
  eventsTable: z.string().optional(),
  /** Per-group lifecycle configuration (`drover lifecycle`); absent in older files. */
  lifecycleTable: z.string().optional(),
  repliesQueueUrl: z.string(),
  deadLetterQueueUrl: z.string(),
  publicKeyPath: z.string(),
  stateDir: z.string(),
  /** The stage's EventBridge Scheduler group and the role its schedules start runs with. */
  scheduleGroup: z.string().optional(),
  schedulerRoleArn: z.string().optional(),
});
export type LocalStackFile = z.infer<typeof localStackFileSchema>;

export const localStackFilePath = (home: string): string => join(home, 'local.json');

export class LocalStackNotRunning extends Error {
  override name = 'LocalStackNotRunning';
}

export class LocalStackAlreadyRunning extends Error {
  override name = 'LocalStackAlreadyRunning';
}

/**
 * Throws LocalStackAlreadyRunning if a live stack already uses `home`: a second one would write
 * over its stack file, and remove it on stop, leaving the first one unreachable.
 */
export function assertNoLocalStack(home: string): void {
  let pid: number;
  try {
    pid = readLocalStackFile(home).pid;
  } catch {
    return; // No stack file, a damaged one, or its process is gone: the home is free.
  }
  throw new LocalStackAlreadyRunning(
    `a local stack (pid ${pid}) already runs in ${home}: stop it first (Ctrl-C where it runs), or give this one another --home`,
  );
}

/** Reads the stack file and checks the stack's process is alive. */
export function readLocalStackFile(home: string): LocalStackFile {
  const path = localStackFilePath(home);
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    throw new LocalStackNotRunning(`no local stack found (${path} is missing): start one with \`npm start\``);
  }
  const parsed = localStackFileSchema.safeParse(JSON.parse(raw));
  if (!parsed.success)
    throw new LocalStackNotRunning(`${path} is not a valid stack file: delete it and run \`npm start\``);
  try {
    process.kill(parsed.data.pid, 0);
  } catch {
    throw new LocalStackNotRunning(
      `the local stack recorded in ${path} (pid ${parsed.data.pid}) is not running: start it with \`npm start\``,
    );
  }
  return parsed.data;
}
