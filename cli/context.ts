/**
 * What every command gets: where to write, how the terminal looks, Ctrl-C, and which stack to
 * talk to. `main.ts` builds it from the process; tests of pure parts build their own.
 */
import { hostname, userInfo } from 'node:os';
import type { StackSelection } from './stack.ts';

export interface CliIO {
  /** stdout: data only. */
  out: (text: string) => void;
  /** stderr: notes, progress, errors. */
  err: (text: string) => void;
  /** Colours on stdout (a terminal, and NO_COLOR unset). */
  color: boolean;
  /** stderr is a terminal: progress bars may be drawn on it. */
  stderr: { isTTY?: boolean; write(text: string): boolean };
  /**
   * Calls `handler` on Ctrl-C instead of exiting; returns the function that undoes it. A second
   * Ctrl-C always exits (130).
   */
  onInterrupt: (handler: () => void) => () => void;
  setExitCode: (code: number) => void;
}

export interface CommandContext {
  io: CliIO;
  stack: StackSelection;
}

/**
 * What a command module gets when it registers itself on the program (`register(program, host)` in
 * `cli/commands/<name>.ts`): the context of this invocation, built when the command runs, and
 * where its exit code goes.
 */
export interface CommandHost {
  context: () => CommandContext;
  done: (code: number) => void;
}

export { EXIT } from '#shared/exit-codes.ts';

/** Who started a run or a cancel, recorded with it. */
export function callerName(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `unknown@${hostname()}`;
  }
}
