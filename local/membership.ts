/**
 * The stack's membership machinery on one machine: the reaper on a timer (serverless.yml runs it
 * on a schedule) and the EventBridge rules that deliver bus events to their functions.
 */
import type { LambdaRuntime } from './lambda-runtime.ts';
import type { LocalEventBus } from './event-bus.ts';
import { routeEvents } from './event-rules.ts';

export interface MembershipOptions {
  lambdas: LambdaRuntime;
  bus: LocalEventBus;
  stage: string;
  /** Default one minute, as deployed. */
  reaperIntervalMs?: number;
  onError?: (error: unknown) => void;
  /** Starts `drover-<stage>-<name>` with `input` (a rule whose target is a state machine). */
  startMachine: (name: string, input: string) => void;
}

/** Starts the reaper timer and the event rules; returns the function that stops both. */
export function startMembership(options: MembershipOptions): () => Promise<void> {
  const onError = options.onError ?? (() => {});
  const unroute = routeEvents(
    options.bus,
    `drover-${options.stage}`,
    async (target, event) => {
      if (typeof target === 'string') return options.lambdas.invoke(target, event);
      // EventBridge names the execution itself; the event id is unique.
      options.startMachine(target.stateMachine, JSON.stringify(event));
    },
    onError,
  );
  let running: Promise<unknown> | undefined;
  const reap = setInterval(() => {
    // One reaper run at a time, as a slow scheduled run must not overlap the next one here.
    if (running) return;
    running = options.lambdas
      .invoke('reaper', {
        source: 'aws.events',
        'detail-type': 'Scheduled Event',
        time: new Date().toISOString(),
      })
      .catch(onError)
      .finally(() => (running = undefined));
  }, options.reaperIntervalMs ?? 60_000);
  reap.unref();
  return async () => {
    clearInterval(reap);
    await running;
    await unroute();
  };
}
