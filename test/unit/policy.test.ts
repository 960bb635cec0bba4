/** The host's command policy: patterns, defaults, shell strings and the simple commands of a line. */
import { describe, expect, it } from 'vitest';
import {
  CommandPolicy,
  PolicyPatternError,
  commandText,
  compilePattern,
  type PolicySettings,
} from '#agent/receive/policy.ts';
import { simpleCommands } from '#agent/receive/shell-line.ts';

function policy(overrides: Partial<PolicySettings> = {}): CommandPolicy {
  return new CommandPolicy({ default: 'allow', allow: [], deny: [], shell: true, ...overrides });
}

describe('compilePattern', () => {
  it('matches a glob against the whole command, * spanning words', () => {
    const glob = compilePattern('systemctl status *');

    expect(glob.test('systemctl status nginx')).toBe(true);
    expect(glob.test('systemctl status nginx postgresql')).toBe(true);
    expect(glob.test('sudo systemctl status nginx')).toBe(false);
    expect(glob.test('systemctl restart nginx')).toBe(false);
  });

  it('never lets a glob wildcard match a shell metacharacter', () => {
    const glob = compilePattern('systemctl status *');

    for (const sneaky of [
      'systemctl status x; rm -rf /',
      'systemctl status x && reboot',
      'systemctl status x | sh',
      'systemctl status $(reboot)',
      'systemctl status `reboot`',
      'systemctl status x > /etc/passwd',
      'systemctl status x\nreboot',
    ]) {
      expect(glob.test(sneaky), sneaky).toBe(false);
    }
  });

  it('treats /…/ as a regular expression, with its flags', () => {
    expect(compilePattern('/^df -h/').test('df -h /var')).toBe(true);
    expect(compilePattern('/REBOOT/i').test('sudo reboot now')).toBe(true);
    expect(compilePattern('/^uptime$/').test('uptime; reboot')).toBe(false);
  });

  it('escapes regular expression characters in globs', () => {
    expect(compilePattern('cat /etc/os-release').test('cat /etc/os-release')).toBe(true);
    expect(compilePattern('echo a.b').test('echo axb')).toBe(false);
  });

  it('throws a typed error for a regular expression that does not compile', () => {
    expect(() => compilePattern('/(unclosed/')).toThrow(PolicyPatternError);
  });
});

describe('CommandPolicy', () => {
  it('allows everything by default', () => {
    expect(policy().refusal({ shell: 'rm -rf /tmp/cache' })).toBeUndefined();
    expect(CommandPolicy.allowAll().refusal({ argv: ['reboot'] })).toBeUndefined();
  });

  it('refuses a command matching a deny pattern, naming the pattern', () => {
    const p = policy({ deny: ['reboot*', '/\\brm\\s+-rf\\s+\\/(\\s|$)/'] });

    expect(p.refusal({ shell: 'reboot now' })).toBe('policy: command matches deny pattern "reboot*"');
    expect(p.refusal({ shell: 'rm -rf / ' })).toMatch(/^policy: command matches deny pattern "\/\\brm/);
    expect(p.refusal({ shell: 'rm -rf /tmp/x' })).toBeUndefined();
  });

  it('runs only allowed commands when the default is deny, and deny still wins', () => {
    const p = policy({ default: 'deny', allow: ['uptime', 'systemctl * nginx'], deny: ['systemctl stop *'] });

    expect(p.refusal({ shell: 'uptime' })).toBeUndefined();
    expect(p.refusal({ shell: 'systemctl restart nginx' })).toBeUndefined();
    expect(p.refusal({ shell: 'systemctl stop nginx' })).toBe(
      'policy: command matches deny pattern "systemctl stop *"',
    );
    expect(p.refusal({ shell: 'cat /etc/shadow' })).toBe(
      'policy: command matches no allow pattern (policy.default is deny)',
    );
  });

  it('refuses shell strings but not argv when shell is off', () => {
    const p = policy({ shell: false });

    expect(p.refusal({ shell: 'uptime' })).toMatch(/^policy: shell commands are not allowed on this host/);
    expect(p.refusal({ argv: ['uptime'] })).toBeUndefined();
  });

  it('matches argv requests on their words joined with spaces', () => {
    const p = policy({ default: 'deny', allow: ['systemctl status *'] });

    expect(commandText({ argv: ['systemctl', 'status', 'nginx'] })).toBe('systemctl status nginx');
    expect(p.refusal({ argv: ['systemctl', 'status', 'nginx'] })).toBeUndefined();
    expect(p.refusal({ argv: ['systemctl', 'stop', 'nginx'] })).toBeDefined();
  });
});

/**
 * Policy patterns mean what they say, as far as a parser can see: a deny pattern refuses a line
 * when it matches any simple command in it. And what no parser can see (eval, decoding, variables)
 * gets past a deny list, which is why allow-lists with `default: deny` are the recommended form:
 * the same lines are refused there because the whole line must match an allow pattern.
 */
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
