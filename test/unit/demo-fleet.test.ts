import { describe, expect, it } from 'vitest';
import { agentProcessCount, demoHosts } from '#local/demo-fleet.ts';

describe('agentProcessCount', () => {
  it('uses one agent process per 100 agents', () => {
    expect(agentProcessCount(3, 8)).toBe(1);
    expect(agentProcessCount(100, 8)).toBe(1);
    expect(agentProcessCount(101, 8)).toBe(2);
    expect(agentProcessCount(200, 8)).toBe(2);
    expect(agentProcessCount(201, 8)).toBe(3);
  });

  it('never uses more processes than cores, nor fewer than one', () => {
    expect(agentProcessCount(1000, 2)).toBe(2);
    expect(agentProcessCount(100, 1)).toBe(1);
    expect(agentProcessCount(0, 4)).toBe(1);
  });
});

describe('demoHosts', () => {
  it('makes two web hosts to every db host, each with env, az and a class', () => {
    const hosts = demoHosts(3);

    expect(hosts.map((h) => h.identity)).toEqual(['web-1', 'web-2', 'db-1']);
    for (const host of hosts) {
      expect(Object.keys(host.facts)).toEqual(expect.arrayContaining(['role', 'env', 'az']));
      expect(host.classes).toHaveLength(1);
    }
  });
});
