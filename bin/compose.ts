/**
 * The composition root of `drover`: the CLI (cli/), with the commands the local stack (local/)
 * and the agent (agent/) register themselves. Only here do the components meet; each of them
 * imports only shared/. bin/drover.js runs `main`, from the built CLI (dist/cli) or the sources.
 */
import type { ComponentCommand } from '#shared/command-host.ts';
import { runCli } from '../cli/main.ts';

/**
 * The local stack and the agent run from their TypeScript sources (through tsx's loader), as the
 * Lambda handlers do under `drover local`: they are long-running, so their start-up time does not
 * matter, and their paths (handlers, the command launcher) are those of the sources. The built
 * CLI leaves them out of its bundle (cli-build.js) and registers the loader on first use.
 */
async function typescriptLoader(): Promise<void> {
  if (import.meta.url.endsWith('.ts')) return; // already running from the sources
  const { register } = await import('tsx/esm/api');
  register();
}

/** The summaries are the components' own (bin-compose.test.ts checks they match). */
export const COMPONENTS: readonly ComponentCommand[] = [
  {
    name: 'local',
    summary: 'run the whole control plane on this machine, with demo agents (what `npm start` does)',
    load: async () => {
      await typescriptLoader();
      return import('../local/command.ts');
    },
  },
  {
    name: 'agent',
    summary:
      'start an agent: joins the running local stack, or (with --config) a deployed stage as on a host',
    load: async () => {
      await typescriptLoader();
      return import('../agent/command.ts');
    },
  },
];

export function main(argv: readonly string[]): Promise<void> {
  return runCli(argv, COMPONENTS);
}
