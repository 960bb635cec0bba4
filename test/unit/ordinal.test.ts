/**
 * Ordinal addressing: a group's hosts in join order (identity breaking ties), the nth of them,
 * picked among fresh hosts before the rest of the filter applies; and the CLI flags that ask.
 */
import { describe, expect, it } from 'vitest';
import { groupInJoinOrder } from '#shared/fleet-file/join-order.ts';
import { parseRunRequest, selectTargets } from '#functions/run/plan-run.ts';
import type { NodeItem } from '#shared/runs-table.ts';
import { buildRunRequest } from '#cli/run-request.ts';
import { CliError } from '#cli/errors.ts';
import { nodeItem } from '../helpers/factories.ts';

const RUN_ID = '01HZY8J9K2M3N4P5Q6R7S8T9VW';
const NOW = 10_000_000;

const host = (identity: string, group: string, joinedAt: number, overrides: Partial<NodeItem> = {}) =>
  nodeItem({ nodeId: `i-${identity}`, identity, facts: { group }, joinedAt, lastSeen: NOW, ...overrides });

const FLEET = [
  host('body-a', 'body', 300),
  host('nucleus-1', 'nucleus', 100),
  host('body-c', 'body', 200),
  host('body-b', 'body', 300),
  host('body-z', 'body', 50, { lastSeen: NOW - 3_600_000 }),
];

const targets = (group: string, index: number, filter: object = {}) =>
  selectTargets(
    parseRunRequest({
      runId: RUN_ID,
      command: { shell: 'hostname' },
      filter,
      options: { ordinal: { group, index } },
    }),
    FLEET,
    NOW,
  ).map((n) => n.identity);

describe('ordinal addressing', () => {
  it('orders a group by join time, then identity', () => {
    expect(groupInJoinOrder(FLEET, 'body').map((n) => n.identity)).toEqual([
      'body-z',
      'body-c',
      'body-a',
      'body-b',
    ]);
  });

  it('picks the nth fresh host of the group: a stale host holds no place', () => {
    expect(targets('body', 0)).toEqual(['body-c']);
    expect(targets('body', 1)).toEqual(['body-a']);
    expect(targets('body', 2)).toEqual(['body-b']);
    expect(targets('body', 3)).toEqual([]);
    expect(targets('nucleus', 0)).toEqual(['nucleus-1']);
    expect(targets('cell', 0)).toEqual([]);
  });

  it('counts a host reporting its group as a number in that group, as the --group filter does', () => {
    const nodes = [host('n-2', 'x', 2, { facts: { group: 7 } }), host('n-1', '7', 1)];
    expect(groupInJoinOrder(nodes, '7').map((n) => n.identity)).toEqual(['n-1', 'n-2']);
    expect(groupInJoinOrder([host('o', 'x', 1, { facts: { group: { name: '7' } } })], '7')).toEqual([]);
  });

  it('applies the rest of the filter to the nth host, not the nth of the filtered hosts', () => {
    expect(targets('body', 0, { identity: ['body-a'] })).toEqual([]);
    expect(targets('body', 1, { identity: ['body-a'] })).toEqual(['body-a']);
  });

  it('refuses a bad group name or a negative index in the request', () => {
    expect(() =>
      parseRunRequest({
        runId: RUN_ID,
        command: { shell: 'x' },
        options: { ordinal: { group: 'a b', index: 0 } },
      }),
    ).toThrow(/group name/);
    expect(() =>
      parseRunRequest({
        runId: RUN_ID,
        command: { shell: 'x' },
        options: { ordinal: { group: 'a', index: -1 } },
      }),
    ).toThrow(/ordinal/);
  });
});

describe('drover run --group/--ordinal', () => {
  it('adds the group fact to the filter, and the ordinal to the options', () => {
    const request = buildRunRequest(
      RUN_ID,
      'hostname',
      { wf: ['az=a'], group: 'nucleus', ordinal: 0 },
      'me@here',
    );

    expect(request.filter.fact).toEqual(['az=a', 'group="nucleus"']);
    expect(request.options.ordinal).toEqual({ group: 'nucleus', index: 0 });
    expect(buildRunRequest(RUN_ID, 'x', { group: 'body' }, 'me').options.ordinal).toBeUndefined();
  });

  it('refuses --ordinal without --group, and a group name that cannot be one', () => {
    expect(() => buildRunRequest(RUN_ID, 'x', { ordinal: 0 }, 'me')).toThrow(CliError);
    expect(() => buildRunRequest(RUN_ID, 'x', { ordinal: 0 }, 'me')).toThrow('--ordinal needs --group');
    expect(() => buildRunRequest(RUN_ID, 'x', { group: 'web" or "1' }, 'me')).toThrow(
      /--group "web\\" or \\"1"/,
    );
  });
});
