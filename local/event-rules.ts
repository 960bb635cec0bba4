/**
 * EventBridge rules of the stack, on one machine: each bus event is matched against the same
 * patterns serverless.yml gives its rules (a packaging test checks the two agree) and delivered
 * to the rule's function, as EventBridge invokes a Lambda target asynchronously.
 */
import type { BusEvent } from './event-bus.ts';
import type { FunctionName } from './functions.ts';

/** An event pattern: each key's value is a list of accepted values, or a nested pattern. */
export type EventPattern = { [key: string]: readonly (string | number | boolean)[] | EventPattern };

export interface LocalEventRule {
  /** The logical id of the rule in serverless.yml. */
  id: string;
  /** `stage`: the stage's own bus; `default`: the account's bus, where AWS services publish. */
  bus: 'stage' | 'default';
  pattern: EventPattern;
  /** A function, or a state machine (`drover-<stage>-<name>`) started with the event as input. */
  target: FunctionName | { stateMachine: string };
}

/**
 * The stack's rules for `stage` (serverless.yml writes `${sls:stage}` where these have the stage).
 */
export function eventRules(stage: string): readonly LocalEventRule[] {
  return [
    ...LOCAL_EVENT_RULES,
    {
      id: 'LifecycleActionRule',
      bus: 'default',
      pattern: {
        source: ['aws.autoscaling'],
        'detail-type': ['EC2 Instance-launch Lifecycle Action', 'EC2 Instance-terminate Lifecycle Action'],
        detail: { LifecycleHookName: [`drover-${stage}-launch`, `drover-${stage}-terminate`] },
      },
      target: { stateMachine: 'lifecycle' },
    },
  ];
}

/** The rules that do not depend on the stage's name. */
export const LOCAL_EVENT_RULES: readonly LocalEventRule[] = [
  { id: 'RecordEventsRule', bus: 'stage', pattern: { source: ['drover'] }, target: 'recordEvent' },
  {
    id: 'InstanceStateRule',
    bus: 'default',
    pattern: {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['stopped', 'terminated'] },
    },
    target: 'instanceState',
  },
  {
    id: 'LifecycleRunDoneRule',
    bus: 'stage',
    pattern: { source: ['drover'], 'detail-type': ['Run Completed'] },
    target: 'lifecycleRunDone',
  },
  {
    id: 'ReactionsRule',
    bus: 'stage',
    pattern: { source: ['drover'], 'detail-type': ['Node Joined', 'Node Lost', 'Node Terminated'] },
    target: 'react',
  },
];

/** EventBridge's matching for the subset of patterns drover uses: exact values, nested fields. */
export function matchesPattern(pattern: EventPattern, value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = record[key];
    if (Array.isArray(expected)) {
      const values = Array.isArray(actual) ? (actual as unknown[]) : [actual];
      return values.some((v) => (expected as unknown[]).includes(v));
    }
    return matchesPattern(expected as EventPattern, actual);
  });
}

/**
 * Delivers each event put on `stageBus` or `default` to the matching rules' functions. Returns
 * the function that stops delivery; it resolves once the deliveries under way have ended.
 */
export function routeEvents(
  bus: { subscribe(listener: (event: BusEvent) => void): () => void },
  stageBus: string,
  invoke: (target: LocalEventRule['target'], event: BusEvent) => Promise<unknown>,
  onError: (error: unknown) => void,
): () => Promise<void> {
  const inFlight = new Set<Promise<unknown>>();
  const unsubscribe = bus.subscribe((event) => {
    const onBus =
      event['event-bus-name'] === stageBus
        ? 'stage'
        : event['event-bus-name'] === 'default'
          ? 'default'
          : undefined;
    for (const rule of eventRules(stageBus.replace(/^drover-/, ''))) {
      if (rule.bus !== onBus || !matchesPattern(rule.pattern, event)) continue;
      const delivery = invoke(rule.target, event).catch(onError);
      inFlight.add(delivery);
      void delivery.finally(() => inFlight.delete(delivery));
    }
  });
  return async () => {
    unsubscribe();
    await Promise.all(inFlight);
  };
}
