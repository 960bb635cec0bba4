/**
 * The local stack's scheduler: the stage's schedule group, the role its schedules run with (which
 * may start only this stage's `run` state machine, as the role in serverless.yml), the emulator
 * and its HTTP endpoint.
 */
import { join } from 'node:path';
import { scheduleGroupOf } from '#shared/schedule/names.ts';
import { listen } from './api-server.ts';
import { createSchedulerServer } from './scheduler-api.ts';
import { LocalScheduler } from './scheduler.ts';
import type { LocalStepFunctions } from './step-functions.ts';
import type { Closable } from './emulators.ts';

export type { LocalScheduler } from './scheduler.ts';

export interface LocalSchedulingOptions {
  stage: string;
  region: string;
  account: string;
  sfn: LocalStepFunctions;
  stateMachines: Record<string, string>;
  stateDir: string;
  persist?: boolean;
  schedulerClock?: () => number;
  onError?: (error: unknown) => void;
}

export interface LocalScheduling {
  scheduler: LocalScheduler;
  server: Closable;
  endpoint: string;
  group: string;
  roleArn: string;
}

export async function startLocalScheduler(options: LocalSchedulingOptions): Promise<LocalScheduling> {
  const { stage, region, account, sfn } = options;
  const group = scheduleGroupOf(stage);
  const roleArn = `arn:aws:iam::${account}:role/drover-${stage}-${region}-scheduler`;
  const run = options.stateMachines.run;
  const scheduler = new LocalScheduler({
    region,
    account,
    groups: [group],
    rolePolicies: { [roleArn]: run ? [run] : [] },
    startExecution: (arn, name, input) => void sfn.startExecution(arn, name, input),
    now: options.schedulerClock,
    // Schedules outlive a restart only when the stack keeps its data (`--persist`).
    stateFile: options.persist ? join(options.stateDir, 'schedules.json') : undefined,
    onError: options.onError,
  });
  const http = createSchedulerServer(scheduler);
  const port = await listen(http);
  if (!options.schedulerClock) scheduler.start();
  return {
    scheduler,
    endpoint: `http://127.0.0.1:${port}`,
    group,
    roleArn,
    server: {
      port,
      close: () =>
        new Promise<void>((r) => {
          http.closeAllConnections();
          http.close(() => r());
        }),
    },
  };
}
