import { describe, expect, it } from 'vitest';
import {
  CommandPolicy,
  PolicyPatternError,
  commandText,
  compilePattern,
  type PolicySettings,
} from '#agent/receive/policy.ts';

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
