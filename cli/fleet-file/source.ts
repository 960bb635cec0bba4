/**
 * Which fleet file a `drover fleet` command reads (the argument, `--file`, `DROVER_FLEET`, then
 * ./fleet.yaml), loaded with its problems turned into the CLI's errors.
 */
import { resolve } from 'node:path';
import {
  FleetFileError,
  FleetFileUnreadable,
  UnknownGroupError,
  fleetGroup,
  loadFleetFile,
  type FleetFile,
  type FleetGroup,
} from '#shared/fleet-file/index.ts';
import { CliError } from '../errors.ts';
import { EXIT } from '../context.ts';

export const DEFAULT_FLEET_FILE = 'fleet.yaml';

export interface FleetFileFlags {
  file?: string;
}

/** The path to read: an explicit argument, `--file`, `DROVER_FLEET`, or ./fleet.yaml. */
export function fleetFilePath(flags: FleetFileFlags, argument?: string): string {
  return argument ?? flags.file ?? (process.env.DROVER_FLEET || undefined) ?? DEFAULT_FLEET_FILE;
}

/** A fleet file that cannot be read or used, as the CLI says it (exit 4); other errors as they are. */
export function explainLoadError(error: unknown, path: string): unknown {
  if (error instanceof FleetFileUnreadable) {
    const where = path === DEFAULT_FLEET_FILE ? `looked in ${resolve(path)}; ` : '';
    const hint = ` (${where}name the fleet file with --file or DROVER_FLEET)`;
    return new CliError(error.message + hint, EXIT.invalid, { cause: error });
  }
  if (error instanceof FleetFileError) return new CliError(error.message, EXIT.invalid, { cause: error });
  return error;
}

/** Loads the fleet file; a file that cannot be read or used is a CliError (exit 4). */
export async function readFleet(flags: FleetFileFlags, argument?: string): Promise<FleetFile> {
  const path = fleetFilePath(flags, argument);
  try {
    return await loadFleetFile(path);
  } catch (error: unknown) {
    throw explainLoadError(error, path);
  }
}

/** One group of the fleet file, or a CliError naming the groups there are. */
export function groupOf(fleet: FleetFile, name: string): FleetGroup {
  try {
    return fleetGroup(fleet, name);
  } catch (error: unknown) {
    if (error instanceof UnknownGroupError) {
      throw new CliError(`${fleet.file}: ${error.message}`, EXIT.invalid, { cause: error });
    }
    throw error;
  }
}
