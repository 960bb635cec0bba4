import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunAsError, resolveRunAs } from '#agent/execute/run-as.ts';

let dir: string;
let passwdPath: string;
const noLookup = () => undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drover-runas-'));
  passwdPath = join(dir, 'passwd');
  writeFileSync(
    passwdPath,
    [
      'root:x:0:0:root:/root:/bin/bash',
      'deploy:x:1001:1002:Deploy:/home/deploy:/bin/bash',
      '# a comment',
      'broken-line',
      '',
    ].join('\n'),
  );
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('resolveRunAs', () => {
  it('finds a user by name in passwd, with its group and home', () => {
    expect(resolveRunAs('deploy', { passwdPath, currentUid: 0, lookup: noLookup })).toEqual({
      name: 'deploy',
      uid: 1001,
      gid: 1002,
      home: '/home/deploy',
    });
  });

  it('accepts a numeric uid', () => {
    expect(resolveRunAs('1001', { passwdPath, currentUid: 0, lookup: noLookup })).toMatchObject({
      uid: 1001,
      gid: 1002,
    });
    expect(resolveRunAs('4242', { passwdPath, currentUid: 0, lookup: noLookup })).toMatchObject({
      uid: 4242,
      gid: 4242,
      home: '/',
    });
  });

  it('asks the system (id) about users passwd does not list', () => {
    const user = resolveRunAs('ldap-user', {
      passwdPath,
      currentUid: 0,
      lookup: (name) => (name === 'ldap-user' ? { uid: 5000, gid: 5000 } : undefined),
    });

    expect(user).toMatchObject({ name: 'ldap-user', uid: 5000, gid: 5000 });
  });

  it('refuses a user that does not exist', () => {
    expect(() => resolveRunAs('nobody-here', { passwdPath, currentUid: 0, lookup: noLookup })).toThrow(
      new RunAsError('user "nobody-here" does not exist on this host'),
    );
  });

  it('refuses to switch users when the agent is not root', () => {
    expect(() => resolveRunAs('deploy', { passwdPath, currentUid: 1000, lookup: noLookup })).toThrow(
      /needs the agent to run as root \(it runs as uid 1000\)/,
    );
    expect(resolveRunAs('deploy', { passwdPath, currentUid: 1001, lookup: noLookup }).uid).toBe(1001);
  });
});
