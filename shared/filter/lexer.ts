/**
 * Splits filter text into tokens: words, quoted strings, `/regex/` literals, comparison
 * operators, `class:`/`identity:` prefixes, parentheses and the symbolic `&&`, `||`, `!`.
 * The words `and`, `or`, `not` stay words: only the parser knows where they are keywords, so
 * `role=and` still compares against the value "and".
 */
import { FilterSyntaxError, type FilterFlag } from './errors.ts';
import { FilterRegex } from './regex.ts';

/** The comparison operators of the language; `==` is a synonym of `=`. */
export const COMPARISON_OPERATORS = ['=', '==', '!=', '=~', '<', '>', '<=', '>='] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];

interface Located {
  /** 0-based offset of the token's first character in the input. */
  start: number;
  /** The token exactly as written (with quotes or slashes). */
  raw: string;
}

export type Token = Located &
  (
    | { kind: 'word'; text: string }
    | { kind: 'string'; text: string }
    | { kind: 'regex'; regex: FilterRegex }
    | { kind: 'op'; op: ComparisonOperator }
    | { kind: 'prefix'; target: 'class' | 'identity' }
    | { kind: 'lparen' | 'rparen' | 'and' | 'or' | 'not' | 'eof' }
  );

/** Characters that end a bare word; anything else (dots, dashes, colons, slashes...) is part of it. */
const WORD_BREAK = /[\s()"'=!<>~&|]/;
const OPERATOR_CHAR = /[=!<>~]/;
const PREFIX = /^(class|identity|id):/;

/** Throws a {@link FilterSyntaxError} at a 0-based offset of the input being parsed. */
export type Fail = (offset: number, problem: string, detail?: string, cause?: unknown) => never;

/** A {@link Fail} bound to one filter part. */
export function failureAt(flag: FilterFlag, input: string): Fail {
  return (offset, problem, detail, cause) => {
    throw new FilterSyntaxError({ flag, input, column: offset + 1, problem, detail, cause });
  };
}

/**
 * Tokenizes `input` (one filter item or a `-S` expression); the result always ends with an
 * `eof` token. Throws {@link FilterSyntaxError} for an unknown operator, a lone `&` or `|`, an
 * unterminated quote or regex, an unsupported regex flag or a regex that does not compile.
 */
export function tokenize(input: string, flag: FilterFlag): Token[] {
  const tokens: Token[] = [];
  const fail: Fail = failureAt(flag, input);
  let pos = 0;
  while (pos < input.length) {
    const start = pos;
    const char = input[pos] ?? '';
    if (/\s/.test(char)) {
      pos++;
    } else if (char === '(' || char === ')') {
      tokens.push({ kind: char === '(' ? 'lparen' : 'rparen', start, raw: char });
      pos++;
    } else if (char === '&' || char === '|') {
      if (input[pos + 1] !== char) {
        const word = char === '&' ? 'and' : 'or';
        fail(start, `unexpected "${char}"`, `write "${char}${char}" or "${word}"`);
      }
      tokens.push({ kind: char === '&' ? 'and' : 'or', start, raw: char + char });
      pos += 2;
    } else if (OPERATOR_CHAR.test(char)) {
      while (pos < input.length && OPERATOR_CHAR.test(input[pos] ?? '')) pos++;
      const raw = input.slice(start, pos);
      const op = COMPARISON_OPERATORS.find((known) => known === raw);
      if (op !== undefined) {
        tokens.push({ kind: 'op', op, start, raw });
      } else if (/^!+$/.test(raw)) {
        for (let i = 0; i < raw.length; i++) tokens.push({ kind: 'not', start: start + i, raw: '!' });
      } else {
        fail(start, `unknown operator "${raw}"`, `use one of ${COMPARISON_OPERATORS.join(' ')}`);
      }
    } else if (char === '"' || char === "'") {
      const { text, end } = readQuoted(input, start);
      if (end === undefined) fail(start, 'unterminated quoted string starting', 'add the closing quote');
      pos = end;
      tokens.push({ kind: 'string', text, start, raw: input.slice(start, pos) });
    } else if (char === '/') {
      const token = readRegex(input, start, fail);
      tokens.push(token);
      pos = start + token.raw.length;
    } else {
      while (pos < input.length && !WORD_BREAK.test(input[pos] ?? '')) pos++;
      const text = input.slice(start, pos);
      const prefix = PREFIX.exec(text);
      // After an operator a word is a value, so `owner=id:42` compares against "id:42".
      if (prefix?.[1] !== undefined && tokens.at(-1)?.kind !== 'op') {
        const target = prefix[1] === 'class' ? 'class' : 'identity';
        tokens.push({ kind: 'prefix', target, start, raw: prefix[0] });
        pos = start + prefix[0].length;
      } else {
        tokens.push({ kind: 'word', text, start, raw: text });
      }
    }
  }
  tokens.push({ kind: 'eof', start: input.length, raw: '' });
  return tokens;
}

/** Reads a quoted string at `start`; a backslash escapes the next character. */
function readQuoted(input: string, start: number): { text: string; end: number | undefined } {
  const quote = input[start];
  let text = '';
  for (let pos = start + 1; pos < input.length; pos++) {
    const char = input[pos];
    if (char === quote) return { text, end: pos + 1 };
    if (char === '\\' && pos + 1 < input.length) pos++;
    text += input[pos];
  }
  return { text, end: undefined };
}

/**
 * Reads a `/regex/` literal with an optional `i` flag at `start`. A `/` inside `[...]` or escaped
 * with `\` does not end the literal.
 */
function readRegex(input: string, start: number, fail: Fail): Token {
  let pos = start + 1;
  let inClass = false;
  while (pos < input.length && (inClass || input[pos] !== '/')) {
    const char = input[pos];
    if (char === '\\') pos++;
    else if (char === '[') inClass = true;
    else if (char === ']') inClass = false;
    pos++;
  }
  if (pos >= input.length) fail(start, 'unterminated regular expression starting', 'add the closing "/"');
  const pattern = input.slice(start + 1, pos);
  pos++;
  let flags = '';
  while (pos < input.length && /[a-z]/i.test(input[pos] ?? '')) {
    if (input[pos] !== 'i') {
      fail(pos, `unknown regular expression flag "${input[pos]}"`, 'only "i" (ignore case) is supported');
    }
    flags = 'i';
    pos++;
  }
  const raw = input.slice(start, pos);
  return { kind: 'regex', regex: compileRegex(pattern, flags, raw, start, fail), start, raw };
}

/**
 * Compiles a pattern (RE2 syntax, see `regex.ts`), turning the engine's error into a located one.
 * Used for `/re/` literals and for the plain-text right side of `=~`.
 */
export function compileRegex(
  pattern: string,
  flags: string,
  raw: string,
  start: number,
  fail: Fail,
): FilterRegex {
  try {
    return FilterRegex.compile(pattern, flags);
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    const reason = message.replace(/^error parsing regexp: /, '');
    const hint = /Perl syntax|escape sequence/.test(reason)
      ? ' (RE2 syntax: no lookaround or backreferences, so matching takes linear time)'
      : '';
    return fail(start, `invalid regular expression ${raw}`, reason + hint, error);
  }
}

/** What an error message says was found instead: `found end of input` or the token in quotes. */
export function foundToken(token: Token): string {
  if (token.kind === 'eof') return 'found end of input';
  return token.raw.includes('"') ? `found '${token.raw}'` : `found "${token.raw}"`;
}
