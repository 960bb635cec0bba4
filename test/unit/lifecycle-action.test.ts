import { describe, expect, it } from 'vitest';
import {
  InvalidLifecycleEvent,
  prepareAction,
  type PrepareDeps,
} from '#functions/lifecycle/lifecycle-action.ts';
import { runOutcome } from '#functions/lifecycle/lifecycle-steps.ts';
import { validateLifecycleConfig, type LifecycleConfig } from '#shared/stores/lifecycle-config.ts';
import { nodeItem } from '../helpers/factories.ts';

const NOW = 1_000_000;

function deps(config?: Partial<LifecycleConfig>, alive = true): PrepareDeps & { published: string[] } {
  const published: string[] = [];
  return {
    published,
    stage: 'prod',
    configs: {
      get: async (asg: string) =>
        config ? validateLifecycleConfig({ asg, updatedAt: 1, updatedBy: 't', ...config }) : undefined,
      list: async () => [],
      put: async () => {},
      remove: async () => false,
    },
    node: async (nodeId) => (alive ? nodeItem({ nodeId, lastSeen: NOW, heartbeatSec: 60 }) : undefined),
    events: { publish: async (type) => void published.push(type) },
    now: () => NOW,
    // As LifecycleAnswers.claim (tested against DynamoDB in test/integration/lifecycle-answers.test.ts).
    claim: async (asg, token, execution, runId) => {
      const held = claims.get(`${asg}/${token}`) ?? { execution, runId, at: NOW, announced: false };
      claims.set(`${asg}/${token}`, held);
      return held.execution === execution ? { mine: true, ...held } : { mine: false };
    },
    claimAnnounced: async (asg, token) => void (claims.get(`${asg}/${token}`)!.announced = true),
  };
}
const claims = new Map<string, { execution: string; runId: string; at: number; announced: boolean }>();

const event = (kind: 'launch' | 'terminate', hook = `drover-prod-${kind}`) => ({
  'detail-type': `EC2 Instance-${kind} Lifecycle Action`,
  detail: {
    LifecycleActionToken: 'tok',
    AutoScalingGroupName: 'web',
    LifecycleHookName: hook,
    EC2InstanceId: 'i-1',
    LifecycleTransition: 'x',
  },
});

describe('prepareAction', () => {
  it('waits and bootstraps a launch of a configured group, announcing it with its run id', async () => {
    const d = deps({ bootstrap: 'provision', timeoutSec: 600, requires: { group: 'zk', count: 3 } });
    const action = await prepareAction(event('launch'), d);
    expect(action).toMatchObject({
      kind: 'launch',
      command: 'provision',
      deadline: NOW + 600_000,
      sliceSec: 120,
      requires: { group: 'zk', count: 3 },
    });
    expect(action.runId).toMatch(/^[0-9A-Z]{26}$/);
    expect(action.outcome).toBeUndefined();
    expect(d.published).toEqual(['Bootstrap Started']);
  });

  it('never waits longer per slice than the whole action may take', async () => {
    expect((await prepareAction(event('launch'), deps({ bootstrap: 'x', timeoutSec: 45 }))).sliceSec).toBe(
      45,
    );
  });

  it("ignores another stage's hook", async () => {
    const action = await prepareAction(event('launch', 'drover-staging-launch'), deps({ bootstrap: 'x' }));
    expect(action.kind).toBe('ignore');
  });

  it('continues at once when there is nothing to run, or the terminating host is not alive', async () => {
    expect((await prepareAction(event('launch'), deps(undefined))).outcome).toMatchObject({
      result: 'CONTINUE',
    });
    expect((await prepareAction(event('terminate'), deps({ decommission: 'drain' }, false))).outcome).toEqual(
      {
        result: 'CONTINUE',
        reason: 'host not alive: decommission skipped',
      },
    );
  });

  it('lets one execution handle an action EventBridge delivered twice; the other stands aside', async () => {
    claims.clear();
    const d = deps({ bootstrap: 'provision' });
    const first = await prepareAction(event('launch'), d, 'exec-1');
    const second = await prepareAction(event('launch'), d, 'exec-2');

    expect(first.kind).toBe('launch');
    expect(second).toMatchObject({
      kind: 'ignore',
      outcome: { result: 'CONTINUE', reason: 'another execution answers this lifecycle action' },
    });
    expect(d.published).toEqual(['Bootstrap Started']);
  });

  it('gives a retried Prepare the same run and deadline, and announces the start once', async () => {
    claims.clear();
    const d = deps({ bootstrap: 'provision', timeoutSec: 600 });
    const first = await prepareAction(event('launch'), d, 'exec-1');
    const retried = await prepareAction(event('launch'), { ...d, now: () => NOW + 5_000 }, 'exec-1');

    expect(retried).toMatchObject({ kind: 'launch', runId: first.runId, deadline: NOW + 600_000 });
    expect(d.published).toEqual(['Bootstrap Started']);
  });

  it('refuses an event that is not a lifecycle action', async () => {
    await expect(prepareAction({ detail: {} }, deps())).rejects.toThrow(InvalidLifecycleEvent);
  });
});

describe('runOutcome', () => {
  const summary = (succeeded: number, exitCodes: Record<string, number> = {}) => ({
    expected: 1,
    succeeded,
    exitCodes,
  });

  it('continues only when the command succeeded on the host', () => {
    expect(
      runOutcome('launch', { runId: 'r', status: 'succeeded', summary: summary(1, { 0: 1 }) }).result,
    ).toBe('CONTINUE');
    expect(
      runOutcome('launch', { runId: 'r', status: 'failed', summary: summary(0, { 3: 1 }) }),
    ).toMatchObject({
      result: 'ABANDON',
      reason: 'bootstrap failed (exit 3)',
    });
    expect(runOutcome('launch', { runId: 'r', status: 'running' })).toMatchObject({
      result: 'ABANDON',
      reason: 'bootstrap did not finish (running)',
    });
  });

  it('lets a termination continue whatever its decommission did', () => {
    expect(
      runOutcome('terminate', { runId: 'r', status: 'failed', summary: summary(0, { 1: 1 }) }).result,
    ).toBe('CONTINUE');
  });
});
