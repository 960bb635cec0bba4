/**
 * Evaluates a parsed {@link Filter} against one host's identity, facts and classes. Pure and
 * synchronous: discovery runs it over every row of the nodes table, agents over themselves.
 */
import type { CompareOperator, Filter, NameMatch } from './parser.ts';

/** What a filter is evaluated against: a host as recorded in the nodes table. */
export interface HostFacts {
  identity: string;
  /** Facts as loaded from YAML/JSON: scalars, arrays, null or nested objects. */
  facts: Record<string, unknown>;
  classes: readonly string[];
}

/**
 * Whether `host` satisfies `filter`. Fact semantics (MCollective-compatible):
 *
 * - Keys are dotted paths into nested facts (`os.family`); a literal key containing dots wins
 *   over the nested path when both exist. A fact that is absent or `null` is missing.
 * - `=`: a number fact equals a numeric value numerically (`cpus=4` matches `4` and `"4"`); a
 *   boolean fact equals `true`/`false`; anything else is case-sensitive string equality.
 * - `!=` is exactly `not =`: a host WITHOUT the fact matches `role!=web`, like `not role=web`.
 * - `<` `>` `<=` `>=` compare numerically when both sides are numbers or numeric strings, and
 *   lexicographically when both are non-numeric strings (so version strings compare as text:
 *   `"1.10.0" < "1.9.0"`); any other pairing, and a missing fact, never matches.
 * - Regex (`=~`, `=/re/`) tests the string form of a scalar fact.
 * - For an array fact, `=`, ordering and regex match when any element does (`!=` when none does).
 * - A bare word is true when a class of that name exists or the fact exists.
 */
export function matchFilter(filter: Filter, host: HostFacts): boolean {
  switch (filter.kind) {
    case 'and':
      return filter.operands.every((operand) => matchFilter(operand, host));
    case 'or':
      return filter.operands.some((operand) => matchFilter(operand, host));
    case 'not':
      return !matchFilter(filter.operand, host);
    case 'compare':
      return compareFact(lookupFact(host.facts, filter.key), filter.op, filter.value);
    case 'regex': {
      const { regex } = filter;
      return anyElement(lookupFact(host.facts, filter.key), (fact) => {
        const text = scalarText(fact);
        return text !== undefined && regex.test(text);
      });
    }
    case 'exists':
      return lookupFact(host.facts, filter.key) !== undefined;
    case 'class':
      return host.classes.some((name) => matchName(filter.match, name));
    case 'identity':
      return matchName(filter.match, host.identity);
    case 'classOrFact':
      return host.classes.includes(filter.name) || lookupFact(host.facts, filter.name) !== undefined;
  }
}

/**
 * The value at a dotted `key`, trying the longest literal key first at every level, so both
 * `{ "os.family": x }` and `{ os: { family: x } }` answer `os.family`. `undefined` when the fact
 * is absent or null. Array elements are reachable by index (`disks.0.size`).
 */
export function lookupFact(facts: unknown, key: string): unknown {
  return lookupPath(facts, key.split('.'));
}

function lookupPath(value: unknown, segments: readonly string[]): unknown {
  if (segments.length === 0) return value ?? undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (let take = segments.length; take >= 1; take--) {
    const key = segments.slice(0, take).join('.');
    if (!Object.hasOwn(value, key)) continue;
    const found = lookupPath((value as Record<string, unknown>)[key], segments.slice(take));
    if (found !== undefined) return found;
  }
  return undefined;
}

function compareFact(fact: unknown, op: CompareOperator, value: string): boolean {
  switch (op) {
    case '=':
      return anyElement(fact, (element) => equals(element, value));
    case '!=':
      return !anyElement(fact, (element) => equals(element, value));
    default:
      return anyElement(fact, (element) => ordered(element, op, value));
  }
}

/** `test` on the fact, or on any element (at any depth) when it is an array. Missing is false. */
function anyElement(fact: unknown, test: (scalar: unknown) => boolean): boolean {
  if (fact === undefined || fact === null) return false;
  if (Array.isArray(fact)) return fact.some((element: unknown) => anyElement(element, test));
  return test(fact);
}

function equals(fact: unknown, value: string): boolean {
  if (typeof fact === 'number') return numberOf(value) === fact;
  return scalarText(fact) === value;
}

function ordered(fact: unknown, op: '<' | '>' | '<=' | '>=', value: string): boolean {
  const left = numberOf(fact);
  const right = numberOf(value);
  if (left !== undefined && right !== undefined) return inOrder(left, op, right);
  if (typeof fact === 'string' && left === undefined && right === undefined) return inOrder(fact, op, value);
  return false;
}

function inOrder<T extends number | string>(left: T, op: '<' | '>' | '<=' | '>=', right: T): boolean {
  switch (op) {
    case '<':
      return left < right;
    case '>':
      return left > right;
    case '<=':
      return left <= right;
    case '>=':
      return left >= right;
  }
}

/** Decimal numbers only: `0x10`, `''` and `Infinity` stay strings, unlike with `Number()`. */
const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && NUMERIC.test(value)) return Number(value);
  return undefined;
}

/** The text a scalar fact is compared and regex-matched as; objects have none. */
function scalarText(fact: unknown): string | undefined {
  if (typeof fact === 'string') return fact;
  if (typeof fact === 'number' || typeof fact === 'boolean' || typeof fact === 'bigint') return String(fact);
  return undefined;
}

function matchName(match: NameMatch, name: string): boolean {
  return match.kind === 'exact' ? match.name === name : match.regex.test(name);
}
