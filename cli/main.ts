/**
 * The `drover` command line as bin/drover.js runs it: parse, run, map errors to one line and an
 * exit code. Commands of other components come in as `components`; only the one being run is loaded.
 */
import { CommanderError } from 'commander';
import type { ComponentCommand } from '#shared/command-host.ts';
import { buildProgram, commandWord, type LoadedComponent } from './program.ts';
import { CliError } from './errors.ts';
import { EXIT } from './context.ts';
import { describeError } from './error-text.ts';

function printStack(error: unknown): void {
  for (let e: unknown = error, first = true; e instanceof Error; e = e.cause, first = false) {
    process.stderr.write(`${first ? '' : 'Caused by: '}${e.stack ?? e.message}\n`);
  }
}

/** Each component as `drover --help` lists it; the one `argv` runs with its registration loaded. */
async function loadRunning(
  argv: readonly string[],
  components: readonly ComponentCommand[],
): Promise<LoadedComponent[]> {
  const word = commandWord(argv.slice(2));
  return Promise.all(
    components.map(async ({ name, summary, load }) =>
      name === word ? { name, summary, register: (await load()).register } : { name, summary },
    ),
  );
}

/** Runs `drover` with `argv` (as process.argv: node, script, arguments) in this process. */
export async function runCli(
  argv: readonly string[],
  components: readonly ComponentCommand[],
): Promise<void> {
  const debug = argv.includes('--debug');
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

  const program = buildProgram(
    {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
      color,
      stderr: process.stderr,
      onInterrupt: (handler) => {
        interruptHandlers.add(handler);
        return () => interruptHandlers.delete(handler);
      },
      setExitCode: (code) => (process.exitCode = code),
    },
    await loadRunning(argv, components),
  );

  try {
    await program.parseAsync(argv);
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
}
