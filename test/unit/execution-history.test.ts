import { describe, expect, it } from 'vitest';
import { ExecutionHistory, type EmulatorEvent } from '#local/execution-history.ts';

const task = (type: string, extra: Partial<EmulatorEvent> = {}): EmulatorEvent => ({
  type,
  timestamp: 1_000,
  state: { name: 'AwaitAcks', type: 'Task', input: {} },
  ...extra,
});

const types = (events: EmulatorEvent[]) => {
  const history = new ExecutionHistory();
  for (const event of events) history.add(event);
  return history.events.map((e) => e.type);
};

describe('ExecutionHistory (the local execution history in AWS event types)', () => {
  it('logs a Task that succeeds as AWS does: five events', () => {
    expect(types([task('StateEntered'), task('StateExited')])).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
    ]);
  });

  it('logs no TaskSucceeded for a Task whose timeout a Catch took', () => {
    const caught = [
      task('StateEntered'),
      task('StateFailed', { Error: 'States.Timeout', Cause: 'late' }),
      task('StateCaught'),
      task('StateExited'),
    ];
    expect(types(caught)).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskTimedOut',
      'TaskStateExited',
    ]);
  });

  it('logs the success of a Task retried after a failure', () => {
    const retried = [
      task('StateEntered'),
      task('StateFailed', { Error: 'Boom' }),
      task('StateRetried'),
      task('StateExited'),
    ];
    expect(types(retried)).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
    ]);
  });

  it('tells apart the iterations of a Map: one failing does not hide another’s success', () => {
    const map = { name: 'Dispatch', type: 'Map', input: {} };
    const group = (type: string, index: number, extra: Partial<EmulatorEvent> = {}) =>
      task(type, { index, state: { name: 'DispatchGroup', type: 'Task', input: {} }, ...extra });
    const events = types([
      { type: 'StateEntered', timestamp: 1, state: map },
      { type: 'MapIterationStarted', timestamp: 1, index: 0, parentState: map },
      { type: 'MapIterationStarted', timestamp: 1, index: 1, parentState: map },
      group('StateEntered', 0),
      group('StateEntered', 1),
      group('StateFailed', 0, { Error: 'Boom' }),
      group('StateExited', 1),
      { type: 'MapIterationSucceeded', timestamp: 1, index: 1, parentState: map },
      { type: 'MapIterationFailed', timestamp: 1, index: 0, parentState: map },
    ]);
    expect(events.filter((t) => t === 'TaskSucceeded')).toHaveLength(1);
    expect(events.slice(0, 4)).toEqual([
      'MapStateEntered',
      'MapStateStarted',
      'MapIterationStarted',
      'MapIterationStarted',
    ]);
    expect(events.at(-1)).toBe('MapIterationFailed');
  });
});
