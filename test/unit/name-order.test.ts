/** Hosts listed by name (shared/name-order.ts): localeCompare's order, without its collator for plain names. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareNames } from '#shared/name-order.ts';

const sign = (n: number) => Math.sign(n);
const plainName = fc.string({ unit: fc.constantFrom(...'abcxyz0189.-'), maxLength: 12 });
const anyName = fc.string({ unit: fc.constantFrom(...'aAbZ0_9.-é ~'), maxLength: 8 });

describe('compareNames', () => {
  it('orders plain hostnames as localeCompare does in English', () => {
    fc.assert(
      fc.property(plainName, plainName, (a, b) => {
        expect(sign(compareNames(a, b))).toBe(sign(a.localeCompare(b, 'en')));
      }),
      { numRuns: 5_000 },
    );
  });

  it('leaves any other name to localeCompare', () => {
    fc.assert(
      fc.property(anyName, anyName, (a, b) => {
        expect(sign(compareNames(a, b))).toBe(sign(a.localeCompare(b)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('sorts a fleet the way operators read it', () => {
    const names = ['web-10', 'db-1', 'web-2', 'web-1', 'web.b', 'web-1a', 'Web-3', 'i-0abc'];
    expect([...names].sort(compareNames)).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    expect(['web-2', 'web-10', 'web-1'].sort(compareNames)).toEqual(['web-1', 'web-10', 'web-2']);
  });
});
