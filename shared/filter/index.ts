/**
 * The filter language of drover (MCollective-style `-W`, `-F`, `-C`, `-I`, `-S`), shared by
 * discovery in the control plane and by agents re-checking a request.
 */
export { FilterSyntaxError, formatFilterError, type FilterFlag } from './errors.ts';
export { describeFilter, hasFilter } from './describe.ts';
export {
  exactIdentities,
  FILTER_LIMITS,
  parseFilter,
  type CompareOperator,
  type Filter,
  type NameMatch,
} from './parser.ts';
export { FilterRegex } from './regex.ts';
export { lookupFact, matchFilter, type HostFacts } from './matcher.ts';
