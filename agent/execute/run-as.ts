/**
 * `policy.run_as`: the user commands run as. Resolved once at start (from /etc/passwd, else with
 * `id`, which also knows directory users); the executor then spawns with that uid and gid, which
 * only root can do, so an agent that is not root refuses to start with a run-as user.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface RunAsUser {
  name: string;
  uid: number;
  gid: number;
  /** HOME given to commands. */
  home: string;
}

/** The user cannot be found, or the agent cannot switch to it. */
export class RunAsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunAsError';
  }
}

export interface ResolveRunAsOptions {
  passwdPath?: string;
  /** The agent's own uid; `process.getuid()` by default. */
  currentUid?: number;
  /** Looks a user up with `id -u`/`id -g` when /etc/passwd does not list it. */
  lookup?: (user: string) => { uid: number; gid: number } | undefined;
}

/**
 * Resolves `user` (a name or a numeric uid). Throws {@link RunAsError} when it does not exist or
 * when the agent is not root and `user` is not the agent's own user (a no-op switch is allowed).
 */
export function resolveRunAs(user: string, options: ResolveRunAsOptions = {}): RunAsUser {
  const entries = readPasswd(options.passwdPath ?? '/etc/passwd');
  const numeric = /^\d+$/.test(user) ? Number(user) : undefined;
  const entry = entries.find((e) => (numeric !== undefined ? e.uid === numeric : e.name === user));
  let resolved: RunAsUser | undefined = entry;
  if (!resolved) {
    const ids = (options.lookup ?? lookupWithId)(user);
    if (ids) resolved = { name: user, ...ids, home: '/' };
    else if (numeric !== undefined) resolved = { name: user, uid: numeric, gid: numeric, home: '/' };
  }
  if (!resolved) throw new RunAsError(`user "${user}" does not exist on this host`);
  const currentUid = options.currentUid ?? process.getuid?.() ?? -1;
  if (currentUid !== 0 && currentUid !== resolved.uid) {
    throw new RunAsError(
      `running commands as "${user}" needs the agent to run as root (it runs as uid ${currentUid})`,
    );
  }
  return resolved;
}

function readPasswd(path: string): RunAsUser[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const users: RunAsUser[] = [];
  for (const line of text.split('\n')) {
    const [name, , uid, gid, , home] = line.split(':');
    if (!name || uid === undefined || gid === undefined || !/^\d+$/.test(uid) || !/^\d+$/.test(gid)) continue;
    users.push({ name, uid: Number(uid), gid: Number(gid), home: home || '/' });
  }
  return users;
}

function lookupWithId(user: string): { uid: number; gid: number } | undefined {
  try {
    const run = (flag: string) =>
      Number(
        execFileSync('id', [flag, user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
      );
    const uid = run('-u');
    const gid = run('-g');
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}
