/** Step `finish`: final status and summary, retention, `Run Completed` event. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { RUN_ERROR_LOG } from '#shared/run-errors.ts';
import { finishRun } from './run/finish-run.ts';
import { finishInputSchema } from './run/state.ts';
import { handlerLogger, wiring } from './run/wiring.ts';

const logger = handlerLogger();

/**
 * The failure a run step handed the finish step (the FinishFailed path), if any: what the
 * `RunErrors` alarm counts. Hosts that failed are no such error (the run completed).
 */
export function stepErrorOf(event: unknown): { runId: string; error: string } | undefined {
  const input = finishInputSchema.safeParse(event);
  if (!input.success || !input.data.error) return undefined;
  return { runId: input.data.runId, error: input.data.error.Error };
}

export const handler = middy(async (event: unknown) => {
  // Logged first, so the alarm fires even when recording the error below fails too.
  const stepError = stepErrorOf(event);
  if (stepError) logger.error(RUN_ERROR_LOG, stepError);
  const out = await finishRun(event, {
    runs: wiring.runs(),
    events: wiring.events(),
    now: wiring.now,
    scheduleLock: wiring.scheduleLock(),
  });
  logger.info('run finished', { runId: out.runId, status: out.status });
  return out;
}).use(injectLambdaContext(logger));
