/**
 * Entry of the agent bundle (dist/drover-agent.mjs): `drover-agent` (standalone-cli.ts), or, with
 * DROVER_AGENT_LAUNCHER=1 in the environment, the command launcher of a process that hosts many
 * agents (many/command-launcher.ts). The imports are dynamic so the launcher evaluates only its own
 * small part of the bundle.
 */
import { LAUNCHER_ENV } from './many/command-launcher.ts';

if (process.env[LAUNCHER_ENV] === '1') await import('./many/launcher-main.ts');
else await import('./standalone-cli.ts');
