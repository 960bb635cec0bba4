/**
 * The simple commands of a shell line, as a deny pattern needs to see them: `true && rm -rf /srv`
 * is two commands, `rm -rf /srv;` is one, `echo $(rm -rf /srv)` runs `rm` too. A best effort, by
 * design: the shell can build a command no parser sees (`eval`, variables, `base64 -d | sh`, a
 * script file), which is why docs/agent.md calls deny patterns advisory and recommends allow-lists.
 */
import { parse, type ParseEntry } from 'shell-quote';

/** Shells whose `-c` argument is itself a shell line. */
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh']);
/** Words that run the rest of their simple command: `sudo rm` is `rm` for a deny pattern. */
const PREFIXES = new Set([
  '!',
  '{',
  '}',
  'then',
  'do',
  'else',
  'if',
  'while',
  'until',
  'exec',
  'command',
  'nohup',
  'sudo',
  'env',
  'time',
]);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
/** How deep `bash -c '…'` is followed. */
const MAX_DEPTH = 4;

/**
 * Every simple command of `line`, as its words joined with single spaces (quotes removed,
 * variables left as `$NAME`), plus the same command without leading assignments and wrappers
 * (`FOO=1 sudo rm -rf x` also gives `rm -rf x`). Comments are not commands.
 */
export function simpleCommands(line: string, depth = 0): string[] {
  // Line breaks and backquotes separate commands as `;` does (shell-quote keeps them in words).
  const entries = parse(line.replace(/[\r\n`]/g, ' ; '), (name) => `$${name}`);
  const commands: string[] = [];
  let words: string[] = [];
  const flush = () => {
    if (words.length > 0) commands.push(...variants(words, depth));
    words = [];
  };
  for (const entry of entries) {
    const word = wordOf(entry);
    if (word === undefined) flush();
    else if (word !== '') words.push(word);
  }
  flush();
  return commands;
}

/** A word's text; `''` for a comment (dropped), undefined for an operator (ends a command). */
function wordOf(entry: ParseEntry): string | undefined {
  if (typeof entry === 'string') return entry;
  if ('comment' in entry) return '';
  if ('op' in entry && entry.op === 'glob') return entry.pattern;
  return undefined;
}

function variants(words: readonly string[], depth: number): string[] {
  const out = [words.join(' ')];
  let start = 0;
  while (start < words.length && (ASSIGNMENT.test(words[start]!) || PREFIXES.has(words[start]!))) start++;
  const rest = words.slice(start);
  if (start > 0 && rest.length > 0) out.push(rest.join(' '));
  const dashC = rest.indexOf('-c');
  if (depth < MAX_DEPTH && SHELLS.has(rest[0]?.replace(/^.*\//, '') ?? '') && dashC > 0) {
    const script = rest[dashC + 1];
    if (script !== undefined) out.push(...simpleCommands(script, depth + 1));
  }
  return out;
}
