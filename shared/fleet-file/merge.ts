/**
 * The fleet file's inheritance, exactly as the node-group notes put it: each group inherits
 * `__base__` (and, with `inherits`, another group), and for each key
 * - lists are appended: the inherited items first, then the group's;
 * - maps (dictionaries) are merged one level deep: the group's keys replace the inherited ones,
 *   whole (a nested map under a key is replaced, not merged);
 * - any other value in the group overrides the inherited one; `null` removes it.
 * Every value keeps where it came from, for `drover fleet show`.
 */

/** Which layer set a value: a group name, `__base__`, or `default` for what drover fills in. */
export type Origin = string;

/** Where each part of a merged value came from. */
export type ValueOrigin =
  | { kind: 'value'; from: Origin }
  | { kind: 'list'; items: Origin[] }
  | { kind: 'map'; keys: Record<string, Origin> };

export interface Layer {
  /** The group the settings belong to. */
  name: string;
  settings: Record<string, unknown>;
}

export interface Merged {
  values: Record<string, unknown>;
  origins: Record<string, ValueOrigin>;
}

export function isPlainMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function originOf(value: unknown, from: Origin): ValueOrigin {
  if (Array.isArray(value)) return { kind: 'list', items: value.map(() => from) };
  if (isPlainMap(value))
    return { kind: 'map', keys: Object.fromEntries(Object.keys(value).map((k) => [k, from])) };
  return { kind: 'value', from };
}

/** Applies one layer's value for a key on top of what the layers before it produced. */
function mergeKey(merged: Merged, key: string, value: unknown, from: Origin): void {
  const current = merged.values[key];
  const origin = merged.origins[key];
  if (value === null) {
    delete merged.values[key];
    delete merged.origins[key];
  } else if (Array.isArray(value) && Array.isArray(current) && origin?.kind === 'list') {
    merged.values[key] = [...current, ...value];
    merged.origins[key] = { kind: 'list', items: [...origin.items, ...value.map(() => from)] };
  } else if (isPlainMap(value) && isPlainMap(current) && origin?.kind === 'map') {
    merged.values[key] = { ...current, ...value };
    const keys = { ...origin.keys };
    for (const k of Object.keys(value)) keys[k] = from;
    merged.origins[key] = { kind: 'map', keys };
  } else {
    merged.values[key] = value;
    merged.origins[key] = originOf(value, from);
  }
}

/**
 * Merges `layers`, the most general first (`__base__`, then each inherited group, then the group
 * itself). Keys in `skip` (such as `inherits`) are not inherited.
 */
export function mergeLayers(layers: readonly Layer[], skip: ReadonlySet<string> = new Set()): Merged {
  const merged: Merged = { values: {}, origins: {} };
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.settings)) {
      if (value === undefined || skip.has(key)) continue;
      mergeKey(merged, key, value, layer.name);
    }
  }
  return merged;
}
