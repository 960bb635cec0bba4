import { describe, expect, it } from 'vitest';
import {
  batchSizes,
  checkBatchCount,
  MAX_BATCHES,
  limitTargets,
  parsePlanInput,
  parseRunRequest,
  seededRandom,
  selectTargets,
} from '#functions/run/plan-run.ts';
import { InvalidRunRequest } from '#functions/run/state.ts';
import { resolveHostCount, type RunRequest } from '#shared/messages.ts';
import type { NodeItem } from '#shared/runs-table.ts';
import { nodeItem } from '../helpers/factories.ts';

const RUN_ID = '01HZY8J9K2M3N4P5Q6R7S8T9VW';
const NOW = 10_000_000;

function runRequest(overrides: { filter?: object; options?: object } = {}): RunRequest {
  return parseRunRequest({ runId: RUN_ID, command: { shell: 'uptime' }, ...overrides });
}

/** A node of the fleet, last seen at NOW unless overridden (heartbeating every 60 s). */
function host(identity: string, overrides: Partial<NodeItem> = {}): NodeItem {
  return nodeItem({ nodeId: `i-${identity}`, identity, lastSeen: NOW, ...overrides });
}

const identities = (nodes: readonly NodeItem[]) => nodes.map((n) => n.identity);

function caught(action: () => unknown): unknown {
  try {
    action();
  } catch (error: unknown) {
    return error;
  }
  throw new Error('expected the action to throw');
}

describe('selectTargets', () => {
  const fleet = [
    host('web-2', { facts: { role: 'web' } }),
    host('db-1', { facts: { role: 'db' }, classes: ['postgres'] }),
    host('web-1', { facts: { role: 'web' } }),
  ];

  it('selects every fresh node when the filter is empty', () => {
    expect(identities(selectTargets(runRequest(), fleet, NOW))).toEqual(['db-1', 'web-1', 'web-2']);
  });

  it('selects only the nodes matching the filter', () => {
    const request = runRequest({ filter: { fact: ['role=web'] } });

    expect(identities(selectTargets(request, fleet, NOW))).toEqual(['web-1', 'web-2']);
  });

  it('sorts the targets by identity', () => {
    const shuffled = [host('c'), host('a'), host('d'), host('b')];

    expect(identities(selectTargets(runRequest(), shuffled, NOW))).toEqual(['a', 'b', 'c', 'd']);
  });

  it('leaves out nodes silent for longer than staleAfterHeartbeats heartbeats', () => {
    // Prepare: 3 heartbeats of 60 s is a 180 s window.
    const nodes = [
      host('on-the-edge', { lastSeen: NOW - 180_000 }),
      host('just-stale', { lastSeen: NOW - 180_001 }),
      host('long-gone', { lastSeen: NOW - 3_600_000 }),
      host('fresh', { lastSeen: NOW - 1_000 }),
    ];

    // Act
    const targets = selectTargets(runRequest(), nodes, NOW);

    // Assess
    expect(identities(targets)).toEqual(['fresh', 'on-the-edge']);
  });

  it('measures staleness in each node\u2019s own heartbeat interval', () => {
    const nodes = [
      host('slow-beat', { heartbeatSec: 300, lastSeen: NOW - 600_000 }),
      host('fast-beat', { heartbeatSec: 10, lastSeen: NOW - 600_000 }),
    ];

    expect(identities(selectTargets(runRequest(), nodes, NOW))).toEqual(['slow-beat']);
  });

  it('honours a longer staleness window', () => {
    const nodes = [host('quiet', { lastSeen: NOW - 400_000 })];

    expect(selectTargets(runRequest(), nodes, NOW)).toEqual([]);
    expect(
      identities(selectTargets(runRequest({ options: { staleAfterHeartbeats: 10 } }), nodes, NOW)),
    ).toEqual(['quiet']);
  });

  it('addresses explicit nodes by identity or by node id', () => {
    const request = runRequest({ options: { nodes: ['web-2', 'i-db-1'] } });

    expect(identities(selectTargets(request, fleet, NOW))).toEqual(['db-1', 'web-2']);
  });

  it('ignores explicit names that match no node', () => {
    const request = runRequest({ options: { nodes: ['web-1', 'no-such-host'] } });

    expect(identities(selectTargets(request, fleet, NOW))).toEqual(['web-1']);
  });

  it('still applies the filter and the staleness window to explicit nodes', () => {
    const nodes = [...fleet, host('web-3', { lastSeen: NOW - 3_600_000 })];
    const request = runRequest({
      filter: { fact: ['role=web'] },
      options: { nodes: ['web-1', 'db-1', 'web-3'] },
    });

    expect(identities(selectTargets(request, nodes, NOW))).toEqual(['web-1']);
  });

  it('rejects a filter that does not parse, naming the flag and the column', () => {
    const request = runRequest({ filter: { select: 'role=web and (' } });

    const error = caught(() => selectTargets(request, fleet, NOW));

    expect(error).toBeInstanceOf(InvalidRunRequest);
    expect((error as InvalidRunRequest).message).toBe(
      '-S: expected a fact, class or "(" at column 15, found end of input',
    );
  });
});

describe('limitTargets', () => {
  const items = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

  it('keeps exactly `limit` items', () => {
    expect(limitTargets(items, 3, seededRandom('1'))).toHaveLength(3);
  });

  it('keeps the chosen items in their original order', () => {
    const chosen = limitTargets(items, 5, seededRandom('7'));

    expect(chosen).toEqual([...chosen].sort());
    expect(new Set(chosen).size).toBe(5);
    for (const item of chosen) expect(items).toContain(item);
  });

  it('chooses the same items for the same seed', () => {
    expect(limitTargets(items, 4, seededRandom('42'))).toEqual(limitTargets(items, 4, seededRandom('42')));
  });

  it('chooses every item about equally often', () => {
    // Prepare
    const random = seededRandom('2024');
    const trials = 4_000;
    const picks = new Map<string, number>();

    // Act
    for (let i = 0; i < trials; i++) {
      for (const item of limitTargets(items, 2, random)) picks.set(item, (picks.get(item) ?? 0) + 1);
    }

    // Assess: each item is expected in 2 of 8 draws, 1000 times out of 4000.
    for (const item of items) expect(picks.get(item) ?? 0).toBeGreaterThan(850);
    for (const item of items) expect(picks.get(item) ?? 0).toBeLessThan(1150);
  });

  it('keeps every item when there is no limit or the limit is not below the count', () => {
    expect(limitTargets(items, undefined, seededRandom('1'))).toEqual(items);
    expect(limitTargets(items, items.length, seededRandom('1'))).toEqual(items);
    expect(limitTargets(items, 100, seededRandom('1'))).toEqual(items);
  });

  it('returns a copy, not the input array', () => {
    const all = limitTargets(items, undefined, seededRandom('1'));

    all.pop();

    expect(items).toHaveLength(8);
  });
});

describe('batchSizes', () => {
  it('makes one batch of every host when no batch size is set', () => {
    expect(batchSizes(10, undefined)).toEqual([10]);
  });

  it('splits hosts into full batches and a remainder', () => {
    expect(batchSizes(10, 3)).toEqual([3, 3, 3, 1]);
  });

  it('makes equal batches when the size divides the count', () => {
    expect(batchSizes(6, 3)).toEqual([3, 3]);
  });

  it('makes one smaller batch when the size exceeds the count', () => {
    expect(batchSizes(2, 5)).toEqual([2]);
  });

  it('makes no batch for no hosts', () => {
    expect(batchSizes(0, undefined)).toEqual([]);
    expect(batchSizes(0, 5)).toEqual([]);
  });
});

describe('checkBatchCount', () => {
  it(`accepts ${MAX_BATCHES} batches`, () => {
    expect(() => checkBatchCount(batchSizes(MAX_BATCHES, 1))).not.toThrow();
  });

  it('refuses more, naming the count and the smallest batch size that fits', () => {
    const sizes = batchSizes(1_000, 1);

    expect(() => checkBatchCount(sizes)).toThrow(InvalidRunRequest);
    expect(() => checkBatchCount(sizes)).toThrow(
      `1000 hosts in batches of 1 make 1000 batches, more than the ${MAX_BATCHES} a run can go through ` +
        '(Step Functions keeps at most 25,000 events of an execution): use --batch 2 or more, or split the run with filters',
    );
    expect(() => checkBatchCount(batchSizes(1_000, 2))).not.toThrow();
  });
});

describe('parseRunRequest', () => {
  it('returns the request with its defaults', () => {
    expect(runRequest().options.timeoutSec).toBe(60);
  });

  it('throws InvalidRunRequest naming every problem', () => {
    const error = caught(() => parseRunRequest({ runId: 'run 1', action: 'exec' }));

    expect(error).toBeInstanceOf(InvalidRunRequest);
    expect((error as Error).name).toBe('InvalidRunRequest');
    expect((error as Error).message).toBe(
      'invalid run request: runId: a run id is an execution name: 1 to 80 letters, digits, "-" or "_"; command: an exec request needs a command',
    );
  });

  it('throws InvalidRunRequest for input that is not an object', () => {
    expect(() => parseRunRequest(undefined)).toThrow(InvalidRunRequest);
  });
});

describe('parsePlanInput', () => {
  const execution = { name: 'nightly-0001', startTime: '2026-12-01T00:00:00.000Z' };

  it("takes the run's id from the execution's name when the input has none", () => {
    const { request, executionStart } = parsePlanInput({
      request: { command: { shell: 'uptime' } },
      execution,
    });

    expect(request.runId).toBe('nightly-0001');
    expect(executionStart).toBe('2026-12-01T00:00:00.000Z');
  });

  it("accepts an input whose runId is the execution's name (the CLI's)", () => {
    const input = { request: { runId: 'nightly-0001', command: { shell: 'uptime' } }, execution };

    expect(parsePlanInput(input).request.runId).toBe('nightly-0001');
  });

  it('refuses an input naming another run id, as InvalidRunRequest', () => {
    const input = { request: { runId: RUN_ID, command: { shell: 'uptime' } }, execution };

    const error = caught(() => parsePlanInput(input));

    expect(error).toBeInstanceOf(InvalidRunRequest);
    expect((error as Error).message).toContain(
      `runId "${RUN_ID}" is not this execution's name "nightly-0001"`,
    );
  });
});

describe('host counts given as shares', () => {
  it('resolves percentages up for sizes and down for thresholds', () => {
    expect(resolveHostCount('25%', 10, 'up')).toBe(3);
    expect(resolveHostCount('1%', 10, 'up')).toBe(1);
    expect(resolveHostCount('25%', 10, 'down')).toBe(2);
    expect(resolveHostCount(4, 10, 'up')).toBe(4);
    expect(resolveHostCount('50%', 0, 'up')).toBe(0);
  });

  it('repeats the same random subset for the same seed', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);

    const a = limitTargets(items, 5, seededRandom('nightly'));
    const b = limitTargets(items, 5, seededRandom('nightly'));
    const c = limitTargets(items, 5, seededRandom('other'));

    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
});
