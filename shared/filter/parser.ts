/**
 * Parses a {@link FilterSpec} into one {@link Filter} tree. Grammar of `-S` (precedence
 * not > and > or):
 *
 *     expr    := and ( ("or" | "||") and )*
 *     and     := unary ( ("and" | "&&") unary )*
 *     unary   := ("not" | "!") unary | "(" expr ")" | term
 *     term    := key OP value | key | /regex/ | ("class:" | "identity:" | "id:") (name | /regex/)
 *
 * Keys, values and names are bare words or "double"/'single' quoted strings. `-F` takes one
 * comparison or bare key, `-W` one or more whitespace-separated terms, `-C` and `-I` one name
 * or `/regex/` each.
 */
import type { FilterSpec } from '#shared/messages.ts';
import type { FilterFlag } from './errors.ts';
import type { FilterRegex } from './regex.ts';
import {
  compileRegex,
  failureAt,
  foundToken,
  tokenize,
  type ComparisonOperator,
  type Fail,
  type Token,
} from './lexer.ts';

/** A class or identity test: an exact name or a regex. */
export type NameMatch = { kind: 'exact'; name: string } | { kind: 'regex'; regex: FilterRegex };

/** Operators of `compare` nodes: `==` is folded into `=`, `=~` and `/re/` values become `regex`. */
export type CompareOperator = '=' | '!=' | '<' | '>' | '<=' | '>=';

/** The parsed filter: evaluate with `matchFilter`. An `and` with no operands matches every host. */
export type Filter =
  | { kind: 'and'; operands: readonly Filter[] }
  | { kind: 'or'; operands: readonly Filter[] }
  | { kind: 'not'; operand: Filter }
  | { kind: 'compare'; key: string; op: CompareOperator; value: string }
  | { kind: 'regex'; key: string; regex: FilterRegex }
  | { kind: 'exists'; key: string }
  | { kind: 'class'; match: NameMatch }
  | { kind: 'identity'; match: NameMatch }
  | { kind: 'classOrFact'; name: string };

/** What a bare term means: in `-S` and `-W` a class or fact, in `-F` only a fact. */
type TermMode = 'select' | 'with' | 'fact';

const EXPECTED_TERM: Record<TermMode, string> = {
  select: 'expected a fact, class or "("',
  with: 'expected a fact or class',
  fact: 'expected a fact name',
};

const KEYWORDS = new Set(['and', 'or', 'not']);

/**
 * Bounds on operator input, checked before anything is evaluated: Plan matches the filter against
 * every host and every agent re-checks it, so its size and nesting must not be the operator's to
 * choose. Generous for real filters (a long `-S` is a few hundred characters).
 */
export const FILTER_LIMITS = {
  /** Characters of all parts together (`-W`, `-F`, `-C`, `-I` items and `-S`). */
  chars: 4096,
  /** Number of `-W`, `-F`, `-C` and `-I` items. */
  parts: 100,
  /** Nested `(` and `not` in one expression. */
  depth: 32,
  /** Dot-separated segments of one fact name (`os.family` has 2). */
  keySegments: 32,
} as const;

class Parser {
  readonly #tokens: Token[];
  readonly #fail: Fail;
  #pos = 0;
  #depth = 0;

  constructor(input: string, flag: FilterFlag) {
    this.#tokens = tokenize(input, flag);
    this.#fail = failureAt(flag, input);
  }

  /** `-S`: a whole boolean expression. */
  select(): Filter {
    const filter = this.#or();
    const extra = this.#peek();
    if (extra.kind === 'rparen') this.#fail(extra.start, 'unexpected ")"', 'it has no matching "("');
    if (extra.kind !== 'eof') {
      this.#fail(extra.start, 'expected "and", "or" or end of input', foundToken(extra));
    }
    return filter;
  }

  /** `-W`: terms separated by whitespace, all required. */
  with(): Filter {
    const operands = [this.#term('with')];
    while (this.#peek().kind !== 'eof') operands.push(this.#term('with'));
    return operands.length === 1 && operands[0] ? operands[0] : { kind: 'and', operands };
  }

  /** `-F`: one comparison or bare fact name. */
  fact(): Filter {
    const filter = this.#term('fact');
    const extra = this.#peek();
    if (extra.kind !== 'eof') {
      this.#fail(
        extra.start,
        'expected end of input',
        `${foundToken(extra)}; -F takes one comparison, use -S to combine`,
      );
    }
    return filter;
  }

  /** `-C` or `-I` given as a regex: exactly one `/regex/` literal. */
  regex(): FilterRegex {
    const token = this.#next();
    const extra = this.#next();
    if (token.kind !== 'regex') return this.#fail(token.start, 'expected a /regex/', foundToken(token));
    if (extra.kind !== 'eof') this.#fail(extra.start, 'expected end of input', foundToken(extra));
    return token.regex;
  }

  #or(): Filter {
    const operands = [this.#and()];
    while (this.#accept('or')) operands.push(this.#and());
    return operands.length === 1 && operands[0] ? operands[0] : { kind: 'or', operands };
  }

  #and(): Filter {
    const operands = [this.#unary()];
    while (this.#accept('and')) operands.push(this.#unary());
    return operands.length === 1 && operands[0] ? operands[0] : { kind: 'and', operands };
  }

  #unary(): Filter {
    const start = this.#peek();
    if (start.kind !== 'lparen' && !this.#isKeyword(start, 'not')) return this.#term('select');
    if (++this.#depth > FILTER_LIMITS.depth) {
      this.#fail(
        start.start,
        `nested too deeply: more than ${FILTER_LIMITS.depth} "(" or "not" inside each other`,
      );
    }
    const inner = this.#nested();
    this.#depth--;
    return inner;
  }

  /** A `not` or `( … )` at the current token. */
  #nested(): Filter {
    if (this.#accept('not')) return { kind: 'not', operand: this.#unary() };
    const open = this.#next();
    const inner = this.#or();
    const close = this.#next();
    if (close.kind === 'rparen') return inner;
    if (close.kind === 'eof') {
      const unclosed = `the "(" at column ${open.start + 1} is never closed`;
      return this.#fail(close.start, 'expected ")"', `${foundToken(close)}; ${unclosed}`);
    }
    return this.#fail(close.start, 'expected "and", "or" or ")"', foundToken(close));
  }

  #term(mode: TermMode): Filter {
    const token = this.#next();
    if (token.kind === 'prefix' && mode !== 'fact') {
      const name = this.#next();
      const expected = `expected a ${token.target} name or /regex/ right after "${token.raw}"`;
      const end = token.start + token.raw.length;
      // `class: and x` is more likely a missing name than a class called "and".
      if (name.start > end && name.kind !== 'eof') this.#fail(end, expected, 'found a space');
      if (name.kind === 'regex') return { kind: token.target, match: { kind: 'regex', regex: name.regex } };
      if (name.kind === 'word' || name.kind === 'string') {
        return { kind: token.target, match: { kind: 'exact', name: name.text } };
      }
      return this.#fail(name.start, expected, foundToken(name));
    }
    if (token.kind === 'regex' && mode !== 'fact') {
      return { kind: 'class', match: { kind: 'regex', regex: token.regex } };
    }
    if (token.kind === 'string' || (token.kind === 'word' && !KEYWORDS.has(token.text.toLowerCase()))) {
      if (token.text.split('.').length > FILTER_LIMITS.keySegments) {
        this.#fail(token.start, `fact name has more than ${FILTER_LIMITS.keySegments} dot-separated parts`);
      }
      const operator = this.#peek();
      if (operator.kind === 'op') {
        this.#next();
        return this.#comparison(token.text, operator.op);
      }
      return mode === 'fact'
        ? { kind: 'exists', key: token.text }
        : { kind: 'classOrFact', name: token.text };
    }
    const hint = token.kind === 'word' && mode !== 'select' ? '; and, or, not only work in -S' : '';
    return this.#fail(token.start, EXPECTED_TERM[mode], foundToken(token) + hint);
  }

  #comparison(key: string, op: ComparisonOperator): Filter {
    const value = this.#next();
    if (value.kind === 'regex') {
      if (op === '=' || op === '==' || op === '=~') return { kind: 'regex', key, regex: value.regex };
      if (op === '!=') return { kind: 'not', operand: { kind: 'regex', key, regex: value.regex } };
      return this.#fail(value.start, `"${op}" cannot compare with a regular expression`, 'quote the value');
    }
    if (value.kind !== 'word' && value.kind !== 'string') {
      return this.#fail(value.start, `expected a value after "${op}"`, foundToken(value));
    }
    if (op === '=~') {
      return { kind: 'regex', key, regex: compileRegex(value.text, '', value.raw, value.start, this.#fail) };
    }
    return { kind: 'compare', key, op: op === '==' ? '=' : op, value: value.text };
  }

  #peek(): Token {
    // tokenize() always ends with eof, and the parser never moves past it.
    return this.#tokens[Math.min(this.#pos, this.#tokens.length - 1)]!;
  }

  #next(): Token {
    const token = this.#peek();
    if (token.kind !== 'eof') this.#pos++;
    return token;
  }

  /** Consumes an `and`/`or`/`not`, written as a word in any case or as its symbol. */
  #accept(keyword: 'and' | 'or' | 'not'): boolean {
    const matches = this.#isKeyword(this.#peek(), keyword);
    if (matches) this.#pos++;
    return matches;
  }

  #isKeyword(token: Token, keyword: 'and' | 'or' | 'not'): boolean {
    return token.kind === keyword || (token.kind === 'word' && token.text.toLowerCase() === keyword);
  }
}

/** `-C` and `-I`: a `/regex/`, otherwise the exact name as given (trimmed). */
function parseName(input: string, flag: '-C' | '-I'): NameMatch {
  const name = input.trim();
  if (name.startsWith('/')) return { kind: 'regex', regex: new Parser(input, flag).regex() };
  if (name === '') {
    const what = flag === '-C' ? 'a class name' : 'an identity';
    failureAt(flag, input)(input.length, `expected ${what} or /regex/`, 'found end of input');
  }
  return { kind: 'exact', name };
}

/**
 * Parses every part of a spec and ANDs them: each `-W`, `-F`, `-C` item and `-S` must hold,
 * while the `-I` items are alternatives (a host matches if any of them names it), so that
 * `-I web1 -I web2` addresses both hosts, as in MCollective. An empty spec gives an `and`
 * with no operands, which matches every host.
 *
 * @throws FilterSyntaxError for the first part that does not parse, naming its flag and column.
 */
export function parseFilter(spec: FilterSpec): Filter {
  checkFilterSize(spec);
  const operands: Filter[] = [
    ...spec.with.map((item) => new Parser(item, '-W').with()),
    ...spec.fact.map((item) => new Parser(item, '-F').fact()),
    ...spec.class.map((item): Filter => ({ kind: 'class', match: parseName(item, '-C') })),
  ];
  const identities = spec.identity.map((item): Filter => ({
    kind: 'identity',
    match: parseName(item, '-I'),
  }));
  if (identities.length === 1 && identities[0]) operands.push(identities[0]);
  if (identities.length > 1) operands.push({ kind: 'or', operands: identities });
  if (spec.select !== undefined) operands.push(new Parser(spec.select, '-S').select());
  return { kind: 'and', operands: operands.flatMap((f) => (f.kind === 'and' ? f.operands : [f])) };
}

/** Refuses a spec over {@link FILTER_LIMITS}, naming the part where the budget ran out. */
function checkFilterSize(spec: FilterSpec): void {
  const items = spec.with.length + spec.fact.length + spec.class.length + spec.identity.length;
  const parts: [FilterFlag, string][] = [
    ...spec.with.map((item): [FilterFlag, string] => ['-W', item]),
    ...spec.fact.map((item): [FilterFlag, string] => ['-F', item]),
    ...spec.class.map((item): [FilterFlag, string] => ['-C', item]),
    ...spec.identity.map((item): [FilterFlag, string] => ['-I', item]),
    ...(spec.select === undefined ? [] : [['-S', spec.select] as [FilterFlag, string]]),
  ];
  if (items > FILTER_LIMITS.parts) {
    const [flag, input] = parts[FILTER_LIMITS.parts]!;
    failureAt(flag, input)(
      0,
      `too many filter items: ${items}, at most ${FILTER_LIMITS.parts}`,
      'combine them with -S',
    );
  }
  let left = FILTER_LIMITS.chars;
  for (const [flag, input] of parts) {
    if (input.length > left) {
      failureAt(flag, input)(
        left,
        `filter too long: more than ${FILTER_LIMITS.chars} characters in all its parts`,
        'match on a fact or class the hosts share instead of listing them',
      );
    }
    left -= input.length;
  }
}

/**
 * The identities to address directly when the spec is nothing but exact `-I` names (no regex
 * and no other part), trimmed and without duplicates, so discovery can skip scanning the fleet;
 * `undefined` otherwise. The result matches exactly the hosts {@link parseFilter} would select.
 */
export function exactIdentities(spec: FilterSpec): string[] | undefined {
  const others = spec.with.length + spec.fact.length + spec.class.length;
  if (others > 0 || spec.select !== undefined || spec.identity.length === 0) return undefined;
  const names = spec.identity.map((item) => item.trim());
  if (names.some((name) => name === '' || name.startsWith('/'))) return undefined;
  return [...new Set(names)];
}
