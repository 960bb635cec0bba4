/**
 * The CLI's public programmatic surface: what a script, or the benchmark (bench/), may use to
 * start and follow runs the way `drover run` does. Everything else under cli/ is internal and
 * may move; this module keeps these names.
 */
export {
  buildRunRequest,
  filterSpecFrom,
  MAX_REQUEST_BYTES,
  type FilterFlags,
  type RunFlags,
} from './run-request.ts';
export { watchRun, byLanding, type ExecutionOutcome, type WatchEvent } from './run-watcher.ts';
export type { StackConnection } from './stack.ts';
