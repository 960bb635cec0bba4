/**
 * Policy patterns mean what they say, as far as a parser can see: a deny pattern refuses a line
 * when it matches any simple command in it. And what no parser can see (eval, decoding, variables)
 * gets past a deny list, which is why allow-lists with `default: deny` are the recommended form:
 * the same lines are refused there because the whole line must match an allow pattern.
 */
import { describe, expect, it } from 'vitest';
import { CommandPolicy, compilePattern } from '#agent/receive/policy.ts';
import { simpleCommands } from '#agent/receive/shell-line.ts';

const denyRm = new CommandPolicy({ default: 'allow', allow: [], deny: ['rm -rf *'], shell: true });
const allowList = new CommandPolicy({
  default: 'deny',
  allow: ['uptime', 'systemctl status *', 'df -h'],
  deny: [],
  shell: true,
});

describe('deny patterns with default: allow', () => {
  it.each([
    'rm -rf /srv',
    'true && rm -rf /srv',
    'rm -rf /srv;',
    'uptime; rm -rf /srv',
    'false || rm -rf /srv',
    'echo $(rm -rf /srv)',
    'echo `rm -rf /srv`',
    'uptime\nrm -rf /srv',
    'FOO=1 rm -rf /srv',
    'sudo rm -rf /srv',
    '(rm -rf /srv)',
    'cat x | rm -rf /srv',
    "bash -c 'rm -rf /srv'",
    "/bin/sh -c 'true; rm -rf /srv'",
    "r'm' -rf /srv",
  ])('stop %j', (line) => {
    expect(denyRm.refusal({ shell: line })).toBe('policy: command matches deny pattern "rm -rf *"');
  });

  it('let other commands run, including quoted operators', () => {
    expect(denyRm.refusal({ shell: 'echo "rm -rf /srv; done"' })).toBeUndefined();
    expect(denyRm.refusal({ shell: 'uptime && df -h # rm -rf /srv' })).toBeUndefined();
  });

  it.each([
    'eval "$(echo cm0gLXJmIC9zcnY= | base64 -d)"',
    'X=rm; $X -rf /srv',
    'echo cm0gLXJmIC9zcnY= | base64 -d | sh',
  ])('are advisory: %j gets past them (a shell builds commands no parser sees)', (line) => {
    expect(denyRm.refusal({ shell: line })).toBeUndefined();
  });
});

describe('allow-lists with default: deny (the recommended form)', () => {
  it('run exactly the listed commands', () => {
    expect(allowList.refusal({ shell: 'uptime' })).toBeUndefined();
    expect(allowList.refusal({ shell: 'systemctl status nginx' })).toBeUndefined();
  });

  it.each([
    'true && rm -rf /srv',
    'uptime; rm -rf /srv',
    'uptime\nrm -rf /srv',
    'systemctl status $(rm -rf /srv)',
    'eval "$(echo cm0gLXJmIC9zcnY= | base64 -d)"',
    'X=rm; $X -rf /srv',
    'echo cm0gLXJmIC9zcnY= | base64 -d | sh',
  ])('refuse %j', (line) => {
    expect(allowList.refusal({ shell: line })).toBe(
      'policy: command matches no allow pattern (policy.default is deny)',
    );
  });
});

describe('simpleCommands', () => {
  it('splits on operators and drops comments', () => {
    expect(simpleCommands('a 1 && b 2 | c; d # e')).toEqual(['a 1', 'b 2', 'c', 'd']);
  });
});

describe('policy regular expressions', () => {
  it('run in linear time (RE2): a backtracking pattern against a long command is harmless', () => {
    // JavaScript's engine takes about 2^n steps here: n = 40 would not end in a day.
    expect(compilePattern('/^(a+)+$/').test(`${'a'.repeat(40)}!`)).toBe(false);
  });
});
