/**
 * The command launcher's side of the channel (see command-launcher.ts): runs each command it is
 * sent with `executeCommand` and sends back its pid and its result. Loads nothing else, so the
 * process stays small and its forks cheap. When the agent process goes away (the channel closes),
 * the commands still running are cancelled (TERM, then KILL) and the launcher exits.
 */
import type { FromLauncher, ToLauncher } from './command-launcher.ts';
import { executeCommand } from '../execute/executor.ts';

const running = new Map<number, AbortController>();
const send = (message: FromLauncher): void => {
  if (process.connected) process.send?.(message);
};

process.on('message', (message: ToLauncher) => {
  if (message.type === 'cancel') {
    running.get(message.id)?.abort();
    return;
  }
  const { id, command, options } = message;
  const controller = new AbortController();
  running.set(id, controller);
  void executeCommand(command, {
    ...options,
    signal: controller.signal,
    onStart: (pid) => send({ type: 'started', id, pid }),
  }).then((result) => {
    running.delete(id);
    send({ type: 'done', id, result });
    if (!process.connected && running.size === 0) process.exit(0);
  });
});

// Signals sent to the agent's whole process group (Ctrl-C in a terminal) are the agent's to handle:
// its graceful stop decides what happens to running commands, then closes the channel.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);

process.on('disconnect', () => {
  if (running.size === 0) process.exit(0);
  for (const controller of running.values()) controller.abort();
});
