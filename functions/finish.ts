/** Step `finish`: final status and summary, retention, `Run Completed` event. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { finishRun } from './run/finish-run.ts';
import { handlerLogger, wiring } from './run/wiring.ts';

const logger = handlerLogger();

export const handler = middy(async (event: unknown) => {
  const out = await finishRun(event, {
    runs: wiring.runs(),
    events: wiring.events(),
    now: wiring.now,
    scheduleLock: wiring.scheduleLock(),
  });
  logger.info('run finished', { runId: out.runId, status: out.status });
  return out;
}).use(injectLambdaContext(logger));
