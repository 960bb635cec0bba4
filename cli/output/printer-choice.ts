/**
 * How the output flags (`--json`, `--jsonl`, `--display`, `--progress`) pick the printer, for the
 * commands that print runs: they take it from here, never from one another.
 */
import type { CliIO } from '../context.ts';
import type { Display } from './display.ts';
import { HostProgress } from './progress.ts';

export type OutputFormat = 'text' | 'json' | 'jsonl';

/** How long a run interrupted with Ctrl-C is followed while it winds down. */
export const CANCEL_WAIT_MS = 10_000;

export interface OutputFlags {
  json?: boolean;
  jsonl?: boolean;
  display?: Display;
  /** `--progress` forces the bar, `--no-progress` hides it; default: on a terminal only. */
  progress?: boolean;
}

export function outputFormat(flags: OutputFlags): OutputFormat {
  return flags.json ? 'json' : flags.jsonl ? 'jsonl' : 'text';
}

/** The progress bar: on stderr when it is a terminal, never with --json/--jsonl. */
export function progressFor(io: CliIO, flags: OutputFlags): HostProgress {
  if (outputFormat(flags) !== 'text' || flags.progress === false) return new HostProgress(undefined);
  if (flags.progress === true) return new HostProgress(io.stderr, !io.stderr.isTTY);
  return new HostProgress(io.stderr.isTTY ? io.stderr : undefined);
}
