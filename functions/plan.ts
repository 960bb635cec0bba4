/** Step `plan` of the run state machine: validate, discover targets, write the run record. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { verifyCallerProof } from '#shared/caller-proof.ts';
import { planRun } from './run/plan-run.ts';
import { dispatchGroupSize } from './run/dispatch-groups.ts';
import { handlerLogger, stage, wiring } from './run/wiring.ts';

const logger = handlerLogger();

export const handler = middy(async (event: unknown) => {
  const state = await planRun(event, {
    runs: wiring.runs(),
    nodes: wiring.nodes(),
    now: wiring.now,
    retentionDays: stage().retentionDays,
    scheduleLock: wiring.scheduleLock(),
    verifyCaller: async (proof, runId) =>
      (await verifyCallerProof(proof, { runId, stsEndpoint: process.env.AWS_ENDPOINT_URL_STS })).arn,
    groupSize: dispatchGroupSize(),
  });
  logger.info('run planned', { runId: state.runId, batches: state.batchCount });
  return state;
}).use(injectLambdaContext(logger));
