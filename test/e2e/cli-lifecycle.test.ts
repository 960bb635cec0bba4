/**
 * `drover lifecycle` and `drover local scale` against the local stack: the configuration is stored
 * and the hooks land on the (local) Auto Scaling group through the real SDK; bad input is refused
 * with a clear error and changes nothing; scaled instances are real agents that join.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeLifecycleHooksCommand } from '@aws-sdk/client-auto-scaling';
import { createAutoScalingClient } from '#shared/autoscaling.ts';
import { MAX_LIFECYCLE_COMMAND_BYTES } from '#shared/stores/lifecycle-config.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';

let t: TestStack;
const cli = (args: string[]) => droverCli(t.home, args);

beforeAll(async () => {
  t = await startTestStack();
}, 60_000);
afterAll(async () => {
  await stopCliProcesses();
  await t?.stop();
});

const hooksOn = async (group: string) => {
  const client = createAutoScalingClient({
    region: t.stack.file.region,
    endpoint: t.stack.file.endpoints.autoscaling,
    credentials: t.stack.file.credentials,
  });
  try {
    const out = await client.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group }));
    return (out.LifecycleHooks ?? []).map((h) => h.LifecycleHookName).sort();
  } finally {
    client.destroy();
  }
};

describe('drover lifecycle', () => {
  it('stores a configuration and puts both hooks on the group', async () => {
    const set = await cli([
      'lifecycle',
      'set',
      'db',
      '--bootstrap',
      'echo hi',
      '--decommission',
      'echo bye',
      '--requires',
      'web:2',
      '--timeout',
      '120',
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('requires      2 in service in web');
    expect(await hooksOn('db')).toEqual(['drover-local-launch', 'drover-local-terminate']);

    const show = JSON.parse((await cli(['lifecycle', 'show', 'db', '--json'])).stdout);
    expect(show).toMatchObject({
      asg: 'db',
      bootstrap: 'echo hi',
      decommission: 'echo bye',
      requires: { group: 'web', count: 2 },
      timeoutSec: 120,
    });
    const list = JSON.parse((await cli(['lifecycle', 'list', '--json'])).stdout);
    expect(list.groups.map((g: { asg: string }) => g.asg)).toEqual(['db']);
  });

  it.each([
    ['an unknown group', ['nope', '--bootstrap', 'x'], 'no Auto Scaling group named "nope"'],
    [
      'a barrier on a missing group',
      ['web', '--bootstrap', 'x', '--requires', 'zk:3'],
      'no Auto Scaling group named "zk"',
    ],
    [
      'a group requiring itself',
      ['web', '--bootstrap', 'x', '--requires', 'web:1'],
      'a group cannot require itself',
    ],
    ['a timeout under 30 s', ['web', '--bootstrap', 'x', '--timeout', '10'], 'timeoutSec'],
    [
      'a command over the limit',
      ['web', '--bootstrap', 'x'.repeat(MAX_LIFECYCLE_COMMAND_BYTES + 1)],
      'bootstrap is longer than',
    ],
    ['no command', ['web'], 'give --bootstrap, --decommission or both'],
  ] as const)('refuses %s, storing nothing', async (_label, args, message) => {
    const out = await cli(['lifecycle', 'set', ...args]);
    expect(out.code).toBe(4);
    expect(out.stderr).toContain(message);
    expect((await cli(['lifecycle', 'show', 'web'])).code).toBe(1);
    expect(await hooksOn('web')).toEqual([]);
  });

  it('removes the hooks and the configuration', async () => {
    expect((await cli(['lifecycle', 'remove', 'db'])).code).toBe(0);
    expect(await hooksOn('db')).toEqual([]);
    expect((await cli(['lifecycle', 'show', 'db'])).code).toBe(1);
    expect((await cli(['lifecycle', 'remove', 'db'])).code).toBe(1);
  });
});

describe('drover local scale', () => {
  it('launches instances that join as agents of the group, and terminates them', async () => {
    const up = await cli(['local', 'scale', 'web', '--to', '2']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout.trim().split('\n')).toHaveLength(2);
    await eventually(
      async () => {
        const find = await cli(['find', '-F', 'asg=web', '--json']);
        return find.code === 0 && JSON.parse(find.stdout).count === 2 ? true : undefined;
      },
      30_000,
      'two web instances to join',
    );

    expect((await cli(['local', 'scale', 'web', '--to', '21'])).stderr).toContain('above max value 20');
    expect((await cli(['local', 'scale', 'nope', '--to', '1'])).code).toBe(4);

    expect((await cli(['local', 'scale', 'web', '--to', '0'])).code).toBe(0);
    await eventually(
      async () => {
        const find = await cli(['find', '-F', 'asg=web', '--all', '--json']);
        const hosts = JSON.parse(find.stdout).hosts as { status: string }[];
        return hosts.length === 2 && hosts.every((h) => h.status === 'terminated') ? true : undefined;
      },
      30_000,
      'both instances terminated',
    );
  }, 90_000);
});
