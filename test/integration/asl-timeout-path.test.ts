import '../../local/polyfills.ts';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';

// Pinned by patches/aws-local-stepfunctions+3.0.0.patch: a Task state's TimeoutSecondsPath is resolved
// against the state input (as AWS Step Functions does), not against the output of Parameters.

const definition: StateMachineDefinition = {
  StartAt: 'AwaitAck',
  States: {
    AwaitAck: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: 'f', Payload: { 'x.$': '$.x' } },
      TimeoutSecondsPath: '$.timeouts.ackSec',
      ResultPath: '$.ack',
      Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimedOut' }],
      End: true,
    },
    TimedOut: {
      Type: 'Pass',
      Result: true,
      ResultPath: '$.timedOut',
      End: true,
    },
  },
};

const input = { x: 1, timeouts: { ackSec: 1 } };

describe('aws-local-stepfunctions Task TimeoutSecondsPath (patched)', () => {
  it('resolves TimeoutSecondsPath from the state input and takes the States.Timeout catch', async () => {
    const stateMachine = new StateMachine(definition);
    const started = performance.now();
    const execution = stateMachine.run(input, {
      overrides: { taskResourceLocalHandlers: { AwaitAck: () => new Promise(() => {}) } },
    });

    const result = await execution.result;
    const elapsedMs = performance.now() - started;

    expect(result).toMatchObject({
      x: 1,
      timeouts: { ackSec: 1 },
      error: { Error: 'States.Timeout' },
      timedOut: true,
    });
    expect(elapsedMs).toBeGreaterThanOrEqual(900);
    expect(elapsedMs).toBeLessThan(5000);
  });

  it('takes the normal path when the task finishes before the timeout', async () => {
    const stateMachine = new StateMachine(definition);
    const received: unknown[] = [];
    const execution = stateMachine.run(input, {
      overrides: {
        taskResourceLocalHandlers: {
          AwaitAck: async (taskInput) => {
            received.push(taskInput);
            await new Promise((resolve) => setTimeout(resolve, 50));
            return { acked: true };
          },
        },
      },
    });

    const result = await execution.result;

    // The task still receives the Parameters output.
    expect(received).toEqual([{ FunctionName: 'f', Payload: { x: 1 } }]);
    expect(result).toEqual({ x: 1, timeouts: { ackSec: 1 }, ack: { acked: true } });
  });
});
