/** Entry of the `drover` command: parse, run, map errors to one line and an exit code. */
import { CommanderError } from 'commander';
import { buildProgram } from './program.ts';
import { CliError } from './errors.ts';
import { EXIT } from './context.ts';
import { describeError } from './error-text.ts';

const debug = process.argv.includes('--debug');
/** NO_COLOR (any non-empty value) turns colours off; FORCE_COLOR turns them on off a terminal. */
const color =
  !process.env.NO_COLOR &&
  (Boolean(process.stdout.isTTY) ||
    (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0'));

// Ctrl-C goes to whoever asked for it (a run cancels itself); a second one, or one nobody asked
// for, exits at once.
const interruptHandlers = new Set<() => void>();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts++;
  if (interrupts > 1 || interruptHandlers.size === 0) {
    process.stderr.write('\n');
    process.exit(EXIT.interrupted);
  }
  for (const handler of [...interruptHandlers]) handler();
});

// A reader that stopped reading (`drover run … | head`) is not an error: stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const program = buildProgram({
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  color,
  stderr: process.stderr,
  onInterrupt: (handler) => {
    interruptHandlers.add(handler);
    return () => interruptHandlers.delete(handler);
  },
  setExitCode: (code) => (process.exitCode = code),
});

function printStack(error: unknown): void {
  for (let e: unknown = error, first = true; e instanceof Error; e = e.cause, first = false) {
    process.stderr.write(`${first ? '' : 'Caused by: '}${e.stack ?? e.message}\n`);
  }
}

try {
  await program.parseAsync(process.argv);
} catch (error: unknown) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; usage errors were already printed, as one line, by the program.
    process.exitCode = error.exitCode === 0 ? 0 : EXIT.invalid;
    if (debug && error.exitCode !== 0) printStack(error);
  } else if (error instanceof CliError) {
    process.stderr.write(`drover: ${error.message}\n`);
    if (debug) printStack(error);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`drover: ${describeError(error)}${debug ? '' : ' (add --debug for details)'}\n`);
    if (debug) printStack(error);
    process.exitCode = EXIT.invalid;
  }
}
