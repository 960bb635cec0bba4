/**
 * Operator input cannot hurt the control plane or a host: a filter's size and nesting are bounded
 * with a clear error before anything is evaluated, and its regular expressions match in linear
 * time (RE2), so a pattern that backtracks exponentially in JavaScript is harmless.
 */
import { describe, expect, it } from 'vitest';
import type { FilterSpec } from '#shared/messages.ts';
import { FILTER_LIMITS, FilterSyntaxError, matchFilter, parseFilter } from '#shared/filter/index.ts';

const spec = (parts: Partial<FilterSpec>): FilterSpec => ({
  with: [],
  fact: [],
  class: [],
  identity: [],
  ...parts,
});

function refusal(parts: Partial<FilterSpec>): FilterSyntaxError {
  try {
    parseFilter(spec(parts));
  } catch (error: unknown) {
    if (error instanceof FilterSyntaxError) return error;
    throw error;
  }
  throw new Error('expected the filter to be refused');
}

describe('filter bounds', () => {
  it('refuses a 10 KB nested -S expression with a syntax error, not a stack overflow', () => {
    const deep = `${'('.repeat(5000)}role=web${')'.repeat(5000)}`;
    expect(refusal({ select: deep }).message).toMatch(/^-S: filter too long/);
  });

  it('refuses nesting deeper than the limit, short as it is, at the first "(" too many', () => {
    const depth = FILTER_LIMITS.depth;
    const ok = `${'('.repeat(depth)}a${')'.repeat(depth)}`;
    expect(() => parseFilter(spec({ select: ok }))).not.toThrow();
    const error = refusal({ select: `(${ok})` });
    expect(error.message).toContain('nested too deeply');
    expect(error.column).toBe(depth + 1);
    expect(refusal({ select: `${'not '.repeat(depth + 1)}a` }).message).toContain('nested too deeply');
  });

  it('counts every part against one size budget and names the part where it ran out', () => {
    const error = refusal({ fact: ['role=web'], select: `env=${'x'.repeat(FILTER_LIMITS.chars)}` });
    expect(error.flag).toBe('-S');
    expect(error.message).toContain(`more than ${FILTER_LIMITS.chars} characters`);
  });

  it('refuses more items than the limit', () => {
    const many = Array.from({ length: FILTER_LIMITS.parts + 1 }, (_, i) => `f${i}=1`);
    expect(refusal({ fact: many }).message).toContain('too many filter items');
  });

  it('refuses a fact name with too many dotted parts', () => {
    expect(refusal({ fact: [`${'a.'.repeat(FILTER_LIMITS.keySegments)}a=1`] }).message).toContain(
      'dot-separated parts',
    );
  });
});

describe('filter regular expressions', () => {
  it('matches /^(a+)+$/ against a long fact without backtracking', () => {
    const filter = parseFilter(spec({ fact: ['motd=/^(a+)+$/'] }));
    const host = (motd: string) => ({ identity: 'h', facts: { motd }, classes: [] });
    // JavaScript's engine takes about 2^n steps on this input: n = 40 would not end in a day.
    expect(matchFilter(filter, host(`${'a'.repeat(40)}b`))).toBe(false);
    expect(matchFilter(filter, host('a'.repeat(40)))).toBe(true);
  });

  it('refuses backreferences and lookaround, saying why', () => {
    const lookahead = refusal({ select: 'role=/web(?=-1)/' });
    expect(lookahead.message).toContain('invalid regular expression /web(?=-1)/');
    expect(lookahead.message).toContain('linear time');
    expect(refusal({ class: ['/(a)\\1/'] }).message).toContain('invalid regular expression');
  });

  it('keeps the usual syntax and the i flag', () => {
    const filter = parseFilter(spec({ select: 'host=~^web\\d+\\.example\\.com$ and class:/NGINX/i' }));
    expect(
      matchFilter(filter, { identity: 'x', facts: { host: 'web12.example.com' }, classes: ['nginx'] }),
    ).toBe(true);
  });
});
