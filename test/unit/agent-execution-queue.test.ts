import { describe, expect, it } from 'vitest';
import { ExecutionQueue } from '#agent/execute/execution-queue.ts';

/** A queue whose entries run until the test ends them (or their signal aborts). */
function controlledQueue(concurrency: number, limit: number) {
  const started: string[] = [];
  const aborted: string[] = [];
  const finish = new Map<string, () => void>();
  const queue = new ExecutionQueue<string>({ concurrency, limit }, (key, _item, signal) => {
    started.push(key);
    return new Promise<void>((resolve) => {
      finish.set(key, resolve);
      signal.addEventListener('abort', () => {
        aborted.push(key);
        resolve();
      });
    });
  });
  return { queue, started, aborted, finish: (key: string) => finish.get(key)?.() };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('ExecutionQueue', () => {
  it('runs at most `concurrency` entries, then the waiting ones in arrival order', async () => {
    const { queue, started, finish } = controlledQueue(2, 10);

    for (const key of ['a', 'b', 'c', 'd']) queue.enqueue(key, key);
    expect(started).toEqual(['a', 'b']);
    expect(queue.waiting).toBe(2);

    finish('b');
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
  });

  it('says it is busy once every slot runs and the queue is full', () => {
    const { queue } = controlledQueue(1, 1);

    queue.enqueue('a', 'a');
    expect(queue.busy()).toBeUndefined();
    queue.enqueue('b', 'b');

    expect(queue.busy()).toBe('agent busy: 1 commands running and 1 waiting (queue_limit 1)');
  });

  it('aborts a running entry on cancel and takes a waiting one out of the queue', async () => {
    const { queue, started, aborted } = controlledQueue(1, 10);
    queue.enqueue('a', 'item-a');
    queue.enqueue('b', 'item-b');

    expect(queue.cancel('b')).toEqual({ state: 'waiting', item: 'item-b' });
    expect(queue.cancel('a')).toEqual({ state: 'running' });
    expect(queue.cancel('zzz')).toBeUndefined();
    await tick();

    expect(aborted).toEqual(['a']);
    expect(started).toEqual(['a']);
  });

  it('on stop starts nothing more, returns what waited, and aborts what outlives the grace', async () => {
    const { queue, started, aborted, finish } = controlledQueue(2, 10);
    for (const key of ['a', 'b', 'c']) queue.enqueue(key, key);
    setTimeout(() => finish('a'), 10);

    const waiting = await queue.stop(100);

    expect(waiting.map((w) => w.key)).toEqual(['c']);
    expect(aborted).toEqual(['b']);
    expect(started).toEqual(['a', 'b']);
    expect(queue.busy()).toBe('agent is shutting down');
  });

  it('takes new limits at once', async () => {
    const { queue, started } = controlledQueue(1, 10);
    for (const key of ['a', 'b', 'c']) queue.enqueue(key, key);

    queue.setLimits({ concurrency: 3, limit: 10 });

    expect(started).toEqual(['a', 'b', 'c']);
  });
});
