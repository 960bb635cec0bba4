/**
 * Steps of the lifecycle state machine that answer at once (functions/lifecycle/): `prepare`,
 * `barrier`, `heartbeat`, `outcome` (of a finished run) and `complete`; and a decommission's
 * reactions (functions/reactions/decommission.ts): `reactions` starts them, `reactionsPending`
 * says whether to wait for one more.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { prepareAction, type LifecycleAction } from './lifecycle/lifecycle-action.ts';
import { barrierMet, completeAction, recordHeartbeat, runOutcome } from './lifecycle/lifecycle-steps.ts';
import {
  decommissionReactionDeps,
  lifecycleLogger as logger,
  prepareDeps,
  stepDeps,
} from './lifecycle/wiring.ts';
import { pendingDecommissionReactions, startDecommissionReactions } from './reactions/decommission.ts';
import { wiring } from './run/wiring.ts';

interface StepEvent {
  step: 'prepare' | 'barrier' | 'heartbeat' | 'outcome' | 'complete' | 'reactions' | 'reactionsPending';
  event?: unknown;
  /** `prepare`: the lifecycle execution's id (`$$.Execution.Id`), which claims the action. */
  execution?: string;
  action: LifecycleAction;
  /** `complete` after a step failed: why, for the recorded reason. */
  error?: { Error?: string; Cause?: string };
}

export const handler = middy(async (input: StepEvent) => {
  switch (input.step) {
    case 'prepare':
      return prepareAction(input.event, prepareDeps(), input.execution);
    case 'barrier':
      return barrierMet(input.action, stepDeps());
    case 'heartbeat':
      return recordHeartbeat(input.action, stepDeps());
    case 'reactions':
      return startDecommissionReactions(input.action, decommissionReactionDeps());
    case 'reactionsPending':
      return pendingDecommissionReactions(input.action, decommissionReactionDeps());
    case 'outcome': {
      // The run's final record: its meta item holds status and summary.
      const runId = input.action.runId!;
      const meta = await wiring.runs().getMeta(runId);
      return runOutcome(input.action.kind, {
        runId,
        status: meta?.status,
        summary: meta?.summary,
      });
    }
    case 'complete': {
      const action = input.error
        ? {
            ...input.action,
            outcome: {
              result: input.action.kind === 'launch' ? ('ABANDON' as const) : ('CONTINUE' as const),
              reason:
                `lifecycle step failed: ${input.error.Error ?? 'error'} ${input.error.Cause ?? ''}`.trim(),
            },
          }
        : input.action;
      const outcome = await completeAction(action, stepDeps());
      logger.info('lifecycle action completed', { instanceId: action.instanceId, ...outcome });
      return outcome;
    }
  }
}).use(injectLambdaContext(logger));
