import { describe, expect, it } from 'vitest';
import { capInlineMaps } from '#local/sfn-map-limit.ts';

const map = (extra: Record<string, unknown>, processor: Record<string, unknown> = {}) => ({
  Type: 'Map',
  ItemProcessor: { StartAt: 'T', States: { T: { Type: 'Pass', End: true } }, ...processor },
  End: true,
  ...extra,
});
const capped = (state: Record<string, unknown>) =>
  (capInlineMaps({ StartAt: 'M', States: { M: state } }).States as Record<string, Record<string, unknown>>)
    .M!;

describe('capInlineMaps (the local Step Functions runs inline Maps as AWS does)', () => {
  it.each([
    [100, 40],
    [40, 40],
    [5, 5],
    [0, 40],
    [undefined, 40],
  ])('runs an inline Map with MaxConcurrency %s at most %s at once', (asked, runs) => {
    expect(capped(map(asked === undefined ? {} : { MaxConcurrency: asked })).MaxConcurrency).toBe(runs);
  });

  it('leaves a distributed Map and a MaxConcurrencyPath alone', () => {
    expect(
      capped(map({ MaxConcurrency: 1000 }, { ProcessorConfig: { Mode: 'DISTRIBUTED' } })).MaxConcurrency,
    ).toBe(1000);
    expect(capped(map({ MaxConcurrencyPath: '$.n' })).MaxConcurrency).toBeUndefined();
  });

  it('caps Maps nested in a Map or a Parallel branch, and changes nothing else', () => {
    const inner = map({ MaxConcurrency: 500 });
    const outer = capped(map({ MaxConcurrency: 2 }, { StartAt: 'I', States: { I: inner } }));
    const nested = (outer.ItemProcessor as { States: Record<string, Record<string, unknown>> }).States.I!;
    expect(outer.MaxConcurrency).toBe(2);
    expect(nested.MaxConcurrency).toBe(40);
    const parallel = capped({
      Type: 'Parallel',
      Branches: [{ StartAt: 'I', States: { I: inner } }],
      End: true,
    });
    const branch = (parallel.Branches as { States: Record<string, Record<string, unknown>> }[])[0]!.States.I!;
    expect(branch.MaxConcurrency).toBe(40);
    expect((inner as Record<string, unknown>).MaxConcurrency).toBe(500);
  });
});
