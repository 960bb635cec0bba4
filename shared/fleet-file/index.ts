/**
 * The fleet file (fleet.yaml): node groups inheriting `__base__`, and what is rendered from them.
 * `loadFleetFile` reads, checks and merges it; everything else works on the merged groups.
 */
import { readFile } from 'node:fs/promises';
import { parseFleetText } from './parse.ts';
import { resolveFleet, type FleetFile } from './resolve.ts';

export { FleetFileError, UnknownGroupError, formatProblem, type FleetFileProblem } from './errors.ts';
export { fleetGroup, resolveFleet, type FleetFile, type FleetGroup, type GroupSettings } from './resolve.ts';
export { parseFleetText } from './parse.ts';
export { chefRole, chefRoleName, type ChefRole } from './chef-role.ts';
export { BASE_GROUP, GROUP_NAME, fleetJsonSchema } from './schema.ts';
export type { Origin, ValueOrigin } from './merge.ts';

/** The fleet file could not be read (missing, a directory, unreadable). */
export class FleetFileUnreadable extends Error {
  override readonly name = 'FleetFileUnreadable';
}

/** Parses and merges fleet-file text; throws FleetFileError listing every problem. */
export function fleetFromText(text: string, file: string): FleetFile {
  return resolveFleet(parseFleetText(text, file));
}

/** Reads, checks and merges the fleet file at `path`. */
export async function loadFleetFile(path: string): Promise<FleetFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory, not a fleet file'
          : `cannot be read (${code ?? String(error)})`;
    throw new FleetFileUnreadable(`${path}: ${why}`, { cause: error });
  }
  return fleetFromText(text, path);
}
