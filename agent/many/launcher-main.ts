/**
 * The command launcher's side of the channel (see command-launcher.ts): runs each command it is
 * sent with `executeCommand` and sends back its pid and its result. Loads nothing else, so the
 * process stays small and its forks cheap. When the agent process goes away (the channel closes),
 * the commands still running are cancelled (TERM, then KILL) and the launcher exits.
 */
import type { FromLauncher, ToLauncher } from './command-launcher.ts';
import { executeCommand } from '../execute/executor.ts';

/** Commands not finished, by id: started, or waiting their turn (their signal aborts either). */
const running = new Map<number, AbortController>();
/** Commands received and not yet started, in arrival order. */
const waiting: Extract<ToLauncher, { type: 'run' }>[] = [];
let pumping = false;

const send = (message: FromLauncher): void => {
  if (process.connected) process.send?.(message);
};

process.on('message', (message: ToLauncher) => {
  if (message.type === 'cancel') {
    running.get(message.id)?.abort();
    return;
  }
  running.set(message.id, new AbortController());
  waiting.push(message);
  if (!pumping) {
    pumping = true;
    setImmediate(startNext);
  }
});

/**
 * Starts one command per turn of the event loop. The channel hands over every message of a read
 * at once (dozens when an agent process's agents all get a request together), and a spawn holds
 * the loop until the child has exec'd: started in one go, the first commands of a burst would
 * end unseen until the whole burst is spawned (`true` measured at ~650 ms instead of a few ms),
 * so their results, and the acks they would have made unnecessary, wait for nothing. Between
 * two spawns the loop now reads the exits and the output of the commands already started.
 */
function startNext(): void {
  const message = waiting.shift();
  if (message === undefined) {
    pumping = false;
    return;
  }
  run(message);
  setImmediate(startNext);
}

function run({ id, command, options }: Extract<ToLauncher, { type: 'run' }>): void {
  const controller = running.get(id)!;
  void executeCommand(command, {
    ...options,
    signal: controller.signal,
    onStart: (pid) => send({ type: 'started', id, pid }),
  }).then((result) => {
    running.delete(id);
    send({ type: 'done', id, result });
    if (!process.connected && running.size === 0) process.exit(0);
  });
}

// Signals sent to the agent's whole process group (Ctrl-C in a terminal) are the agent's to handle:
// its graceful stop decides what happens to running commands, then closes the channel.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);

process.on('disconnect', () => {
  if (running.size === 0) process.exit(0);
  for (const controller of running.values()) controller.abort();
});
