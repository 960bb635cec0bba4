/** The project state directory, found without loading anything heavy (every `drover` start needs it). */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The `.drover` directory of a project: `DROVER_HOME`, else the nearest `.drover` in the working
 * directory or one of its parents (so `drover` works from subdirectories), else `./.drover`.
 */
export function droverHome(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  if (env.DROVER_HOME) return resolve(env.DROVER_HOME);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.drover'))) return join(dir, '.drover');
    if (dirname(dir) === dir) break;
  }
  return join(resolve(cwd), '.drover');
}
