/**
 * Step Functions runs at most 40 iterations of an inline Map state at once, whatever its
 * MaxConcurrency says (0, absent, or more: developer guide, "Using Map state in Inline mode").
 * The local emulator would run a MaxConcurrency of 100 a hundred at a time: the definitions it
 * runs get their inline Maps' MaxConcurrency capped at 40, so local is never more parallel than AWS.
 */
export const INLINE_MAP_CONCURRENCY = 40;

type Json = Record<string, unknown>;

/** A copy of `definition` with every inline Map's MaxConcurrency at most 40 (nested ones too). */
export function capInlineMaps(definition: Json): Json {
  const states = (definition.States ?? {}) as Record<string, Json>;
  const capped: Record<string, Json> = {};
  for (const [name, state] of Object.entries(states)) {
    let next: Json = { ...state };
    const processor = (state.ItemProcessor ?? state.Iterator) as Json | undefined;
    if (state.Type === 'Map' && processor) {
      const mode = (processor.ProcessorConfig as { Mode?: string } | undefined)?.Mode ?? 'INLINE';
      const key = state.ItemProcessor ? 'ItemProcessor' : 'Iterator';
      next = { ...next, [key]: capInlineMaps(processor) };
      if (mode === 'INLINE' && state.MaxConcurrencyPath === undefined) {
        const asked = typeof state.MaxConcurrency === 'number' ? state.MaxConcurrency : 0;
        next.MaxConcurrency = asked === 0 ? INLINE_MAP_CONCURRENCY : Math.min(asked, INLINE_MAP_CONCURRENCY);
      }
    }
    if (Array.isArray(state.Branches)) next.Branches = (state.Branches as Json[]).map(capInlineMaps);
    capped[name] = next;
  }
  return { ...definition, States: capped };
}
