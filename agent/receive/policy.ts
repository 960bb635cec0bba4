/**
 * The host's command policy, the last line of defence after the signature: which commands this
 * host runs at all, whatever an authentic request asks. Deny patterns always win; with
 * `default: deny` only commands matching an allow pattern run; shell strings can be refused
 * outright so only argv requests (no shell, no expansion) get through.
 */
import type { Command } from '#shared/messages.ts';
import { RE2JS } from 're2js';
import { simpleCommands } from './shell-line.ts';

export interface PolicySettings {
  default: 'allow' | 'deny';
  allow: string[];
  deny: string[];
  /** False: `{shell}` requests are refused, only `{argv}` ones run. */
  shell: boolean;
}

/** A compiled allow or deny pattern. */
export interface CommandPattern {
  source: string;
  test(commandText: string): boolean;
}

/** Characters a glob `*` or `?` never matches: with them a shell command could run another. */
const SHELL_METACHARACTERS = ';&|<>$`\\(){}\n\r';

/** A pattern is not a valid regular expression. */
export class PolicyPatternError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PolicyPatternError';
  }
}

/**
 * Compiles one pattern. `/regex/flags` is a regular expression (RE2 syntax: no lookaround or
 * backreferences) tested against the command text (anchor it yourself). Anything else is a glob matched against the whole command text: `*` is any
 * run of characters and `?` one character, except shell metacharacters (`; & | < > $ \` \ ( ) { }`
 * and line breaks), so `systemctl status *` cannot match `systemctl status x; rm -rf /`.
 * Throws {@link PolicyPatternError} for an invalid regular expression.
 */
export function compilePattern(source: string): CommandPattern {
  const regex = /^\/(.*)\/([a-z]*)$/s.exec(source);
  if (regex) {
    let compiled: RE2JS;
    try {
      compiled = RE2JS.compile(regex[1]!, re2Flags(regex[2]!));
    } catch (e: unknown) {
      throw new PolicyPatternError(
        `is not a valid regular expression: ${e instanceof Error ? e.message : e}`,
        {
          cause: e,
        },
      );
    }
    return { source, test: (commandText) => compiled.test(commandText) };
  }
  const notMeta = `[^${SHELL_METACHARACTERS.replace(/[\\\]^-]/g, '\\$&')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')}]`;
  const body = [...source]
    .map((char) => (char === '*' ? `${notMeta}*` : char === '?' ? notMeta : escapeRegex(char)))
    .join('');
  const compiled = new RegExp(`^${body}$`, 's');
  return { source, test: (commandText) => compiled.test(commandText) };
}

/** The text patterns are matched against: the shell string, or the argv joined with spaces. */
export function commandText(command: Command): string {
  return 'shell' in command ? command.shell : command.argv.join(' ');
}

export class CommandPolicy {
  readonly #allow: CommandPattern[];
  readonly #deny: CommandPattern[];

  constructor(readonly settings: PolicySettings) {
    this.#allow = settings.allow.map((p) => compilePattern(p));
    this.#deny = settings.deny.map((p) => compilePattern(p));
  }

  /** A policy that runs everything: the default of an agent with no policy configured. */
  static allowAll(): CommandPolicy {
    return new CommandPolicy({ default: 'allow', allow: [], deny: [], shell: true });
  }

  /** Why `command` must not run here, or undefined when it may. */
  refusal(command: Command): string | undefined {
    if ('shell' in command && !this.settings.shell) {
      return 'policy: shell commands are not allowed on this host (policy.shell is false); send an argv command';
    }
    const text = commandText(command);
    // A deny pattern refuses the line when it matches the whole line or any simple command in it
    // (`true && rm -rf /srv`); argv commands have no shell, so their text is the one command.
    const parts = 'shell' in command ? [text, ...simpleCommands(text)] : [text];
    const denied = this.#deny.find((p) => parts.some((part) => p.test(part)));
    if (denied) return `policy: command matches deny pattern "${denied.source}"`;
    if (this.settings.default === 'deny' && !this.#allow.some((p) => p.test(text))) {
      return 'policy: command matches no allow pattern (policy.default is deny)';
    }
    return undefined;
  }
}

/**
 * RE2 flags for `i`, `m` and `s` (`g`, `y` and `u` change nothing for a test). Policy regexes run
 * on RE2, in time linear in the command, like filter regexes: the command text is the operator's.
 */
function re2Flags(flags: string): number {
  let out = 0;
  for (const flag of flags) {
    if (flag === 'i') out |= RE2JS.CASE_INSENSITIVE;
    else if (flag === 'm') out |= RE2JS.MULTILINE;
    else if (flag === 's') out |= RE2JS.DOTALL;
    else if (!'gyu'.includes(flag)) throw new Error(`unknown flag "${flag}"`);
  }
  return out;
}

function escapeRegex(char: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(char) ? `\\${char}` : char;
}
