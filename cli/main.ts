/** Entry of the `drover` command: parse, run, map errors to one line and an exit code. */
import { CommanderError } from 'commander';
import { buildProgram } from './program.ts';
import { CliError } from './errors.ts';

const debug = process.argv.includes('--debug');
const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const program = buildProgram({
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  color,
  setExitCode: (code) => (process.exitCode = code),
});

try {
  await program.parseAsync(process.argv);
} catch (error: unknown) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; usage errors were already printed by commander.
    process.exitCode = error.exitCode === 0 ? 0 : 4;
  } else if (error instanceof CliError) {
    process.stderr.write(`drover: ${error.message}\n`);
    if (debug && error.cause instanceof Error) process.stderr.write(`${error.cause.stack}\n`);
    process.exitCode = error.exitCode;
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`drover: ${message}${debug ? '' : ' (add --debug for details)'}\n`);
    if (debug && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 4;
  }
}
