/**
 * The filter flags of `run`, `ping`, `find` and `facts` (`-W -F -C -I -S`) as a filter spec,
 * parsed before anything is sent so that a mistake is reported with its position. Apart from the
 * run request (run-request.ts) so that `find` and `facts` do not load the request's schemas.
 */
import { FilterSyntaxError, formatFilterError, parseFilter } from '#shared/filter/index.ts';
import type { FilterSpec } from '#shared/messages.ts';
import { CliError } from './errors.ts';

export { hasFilter } from '#shared/filter/describe.ts';

export interface FilterFlags {
  with?: string[];
  wf?: string[];
  wc?: string[];
  wi?: string[];
  select?: string;
}

export function filterSpecFrom(flags: FilterFlags): FilterSpec {
  const spec: FilterSpec = {
    with: flags.with ?? [],
    fact: flags.wf ?? [],
    class: flags.wc ?? [],
    identity: flags.wi ?? [],
    ...(flags.select !== undefined ? { select: flags.select } : {}),
  };
  try {
    parseFilter(spec);
  } catch (error: unknown) {
    if (error instanceof FilterSyntaxError) throw new CliError(formatFilterError(error), 4, { cause: error });
    throw error;
  }
  return spec;
}
