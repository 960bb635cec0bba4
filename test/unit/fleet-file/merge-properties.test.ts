/**
 * The merge rules as properties over generated layers: whatever the values, lists come out as
 * the concatenation in layer order, maps as a one-level union where later layers win, null as
 * absence, and every item and key keeps the layer it came from.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPlainMap, mergeLayers, type Layer } from '#shared/fleet-file/merge.ts';

const scalar = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean());
const list = fc.array(scalar, { maxLength: 4 });
const map = fc.dictionary(
  fc.constantFrom('a', 'b', 'c'),
  fc.oneof(scalar, fc.dictionary(fc.string(), scalar)),
);
/** One layer sets each key to a value of that key's type, or null, or leaves it out. */
const layer = (name: string) =>
  fc
    .record(
      {
        items: fc.option(list, { nil: null }),
        attrs: fc.option(map, { nil: null }),
        size: fc.option(scalar, { nil: null }),
      },
      { requiredKeys: [] },
    )
    .map((settings): Layer => ({ name, settings }));

describe('merge rules, for any layers', () => {
  it('lists append in layer order, maps merge one level with later layers winning, null removes', () => {
    fc.assert(
      fc.property(layer('__base__'), layer('mid'), layer('leaf'), (...layers) => {
        const merged = mergeLayers(layers);

        // The expected value of each key: from the last null (exclusive) on.
        for (const key of ['items', 'attrs', 'size'] as const) {
          const values = layers.map((l) => l.settings[key]).filter((v) => v !== undefined);
          const lastNull = values.lastIndexOf(null);
          const live = values.slice(lastNull + 1);
          if (live.length === 0) {
            expect(merged.values).not.toHaveProperty(key);
          } else if (key === 'items') {
            expect(merged.values[key]).toEqual((live as unknown[][]).flat());
          } else if (key === 'attrs') {
            expect(merged.values[key]).toEqual(Object.assign({}, ...(live as object[])));
          } else {
            expect(merged.values[key]).toEqual(live.at(-1));
          }
        }
      }),
    );
  });

  it('records the layer of every list item and map key', () => {
    fc.assert(
      fc.property(layer('__base__'), layer('leaf'), (...layers) => {
        const merged = mergeLayers(layers);

        const items = merged.values.items;
        if (Array.isArray(items)) {
          const origin = merged.origins.items;
          expect(origin?.kind).toBe('list');
          if (origin?.kind !== 'list') return;
          const fromLeaf = (layers[1].settings.items as unknown[] | undefined)?.length ?? 0;
          expect(origin.items.filter((o) => o === 'leaf')).toHaveLength(fromLeaf);
          expect(origin.items).toHaveLength(items.length);
        }
        const attrs = merged.values.attrs;
        if (isPlainMap(attrs)) {
          const origin = merged.origins.attrs;
          if (origin?.kind !== 'map') throw new Error('map origin expected');
          for (const key of Object.keys(attrs)) {
            const leafAttrs = layers[1].settings.attrs;
            expect(origin.keys[key]).toBe(isPlainMap(leafAttrs) && key in leafAttrs ? 'leaf' : '__base__');
          }
        }
      }),
    );
  });
});
