/**
 * What every command gets: where to write, how the terminal looks, Ctrl-C, and which stack to
 * talk to (the types live in shared/, as other components' commands get the same). `main.ts`
 * builds it from the process; tests of pure parts build their own.
 */
import { hostname, userInfo } from 'node:os';
import type { CliIO, CommandContext, CommandHost } from '#shared/command-host.ts';

export type { CliIO, CommandContext, CommandHost };

export { EXIT } from '#shared/exit-codes.ts';

/** Who started a run or a cancel, recorded with it. */
export function callerName(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `unknown@${hostname()}`;
  }
}
