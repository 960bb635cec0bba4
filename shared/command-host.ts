/**
 * What a command gets from the `drover` program it registers on: where to write, how the terminal
 * looks, Ctrl-C, which stack to talk to, and where its exit code goes. The CLI's own commands and
 * the commands other components register (`drover local`, `drover agent`, composed by bin/drover.js)
 * share these types, so no component imports another's code to plug into the command line.
 */
import type { Command } from 'commander';

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

/** Which stack a command talks to (the global `--home`, `--stage` and `--refresh`). */
export interface StackSelection {
  home: string;
  /** `--stage`; else `DROVER_STAGE`; else the local stack. */
  stage?: string;
  /** Re-read a deployed stage's outputs from CloudFormation. */
  refresh?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface CommandContext {
  io: CliIO;
  stack: StackSelection;
}

/**
 * What a command module gets when it registers itself on the program (`register(program, host)` in
 * `cli/commands/<name>.ts`, `local/command.ts`, `agent/command.ts`): the context of this
 * invocation, built when the command runs, and where its exit code goes.
 */
export interface CommandHost {
  context: () => CommandContext;
  done: (code: number) => void;
}

/**
 * A command another component registers on `drover` (bin/drover.js composes them): its name and
 * one-line summary for `drover --help`, and how to load its registration, which only happens when
 * that command is the one being run.
 */
export interface ComponentCommand {
  name: string;
  summary: string;
  load: () => Promise<{ register: (program: Command, host: CommandHost) => void }>;
}
