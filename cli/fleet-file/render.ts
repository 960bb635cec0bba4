/**
 * `drover fleet validate|show|role|packer|schema`: what is read from the fleet file and rendered
 * from it. Nothing here talks to AWS.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FleetFileError,
  chefRole,
  chefRoleName,
  fleetJsonSchema,
  loadFleetFile,
  type FleetFile,
  type FleetGroup,
} from '#shared/fleet-file/index.ts';
import { packerTemplate, type PackerFormat } from '#shared/fleet-file/packer.ts';
import { EXIT, type CommandContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { plural } from '../output/format.ts';
import { explainLoadError, fleetFilePath, groupOf, readFleet, type FleetFileFlags } from './source.ts';
import { showText } from './show.ts';
import type { FleetPackerJson, FleetValidateJson, FleetWrittenJson } from './output-schemas.ts';

export interface JsonFlag {
  json?: boolean;
}

const printJson = (ctx: CommandContext, doc: unknown) => ctx.io.out(JSON.stringify(doc, null, 2) + '\n');

/** `validate`: every problem of the file, or its groups; exit 4 when it has problems. */
export async function validateCommand(
  file: string | undefined,
  flags: FleetFileFlags & JsonFlag,
  ctx: CommandContext,
): Promise<number> {
  const path = fleetFilePath(flags, file);
  let fleet: FleetFile;
  try {
    fleet = await loadFleetFile(path);
  } catch (error: unknown) {
    if (!(error instanceof FleetFileError) || !flags.json) throw explainLoadError(error, path);
    const doc: FleetValidateJson = { file: path, valid: false, problems: [...error.problems] };
    printJson(ctx, doc);
    return EXIT.invalid;
  }
  const groups = [...fleet.groups.keys()];
  if (flags.json) printJson(ctx, { file: path, valid: true, groups } satisfies FleetValidateJson);
  else {
    ctx.io.out(
      `${path}: valid, ${plural(groups.length, 'group')}${groups.length ? `: ${groups.join(', ')}` : ''}\n`,
    );
  }
  return EXIT.ok;
}

/** `show`: the merged group and where each value came from. */
export async function showCommand(
  name: string,
  flags: FleetFileFlags & JsonFlag,
  ctx: CommandContext,
): Promise<number> {
  const group = groupOf(await readFleet(flags), name);
  if (flags.json) printJson(ctx, group);
  else ctx.io.out(showText(group));
  return EXIT.ok;
}

/** The groups a rendering command works on: the one named, or (only with --write) every group. */
function targets(fleet: FleetFile, name: string | undefined, write: string | undefined, what: string) {
  if (name !== undefined) return [groupOf(fleet, name)];
  if (write === undefined) {
    throw new CliError(
      `name a group (drover fleet ${what} <group>), or give --write <dir> to write every group`,
    );
  }
  if (fleet.groups.size === 0) throw new CliError(`${fleet.file} has no groups: nothing to write`);
  return [...fleet.groups.values()];
}

/** A file system failure of --write as one line naming the path (a file where a directory should be…). */
async function writeOrExplain(path: string, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    const why = code === 'ENOTDIR' || code === 'EEXIST' ? 'a file is in the way of the directory' : code;
    throw new CliError(`--write: cannot write ${path} (${why})`, EXIT.invalid, { cause: error });
  }
}

/** Writes one file per group into `dir`; reports each path (stderr, or as JSON). */
async function writeAll(
  ctx: CommandContext,
  dir: string,
  files: { group: string; name: string; text: string }[],
  json: boolean | undefined,
): Promise<number> {
  const written: FleetWrittenJson['written'] = [];
  await writeOrExplain(dir, () => mkdir(dir, { recursive: true }));
  for (const file of files) {
    const path = join(dir, file.name);
    await writeOrExplain(path, () => writeFile(path, file.text));
    written.push({ group: file.group, path });
    if (!json) ctx.io.err(`wrote ${path}\n`);
  }
  if (json) printJson(ctx, { written } satisfies FleetWrittenJson);
  return EXIT.ok;
}

export interface RoleFlags extends FleetFileFlags, JsonFlag {
  write?: string;
}

/**
 * `role`: the group's Chef role JSON. `--write DIR` writes `role-<group>.json` files, the names
 * chef-client --local-mode looks roles up by.
 */
export async function roleCommand(name: string | undefined, flags: RoleFlags, ctx: CommandContext) {
  const groups = targets(await readFleet(flags), name, flags.write, 'role');
  const text = (g: FleetGroup) => JSON.stringify(chefRole(g), null, 2) + '\n';
  if (flags.write !== undefined) {
    const files = groups.map((g) => ({ group: g.name, name: `${chefRoleName(g.name)}.json`, text: text(g) }));
    return writeAll(ctx, flags.write, files, flags.json);
  }
  ctx.io.out(text(groups[0]!));
  return EXIT.ok;
}

export interface PackerFlags extends RoleFlags {
  format: PackerFormat;
}

/** `packer`: the group's Packer template (HCL2, or legacy JSON); `--write DIR` one file per group. */
export async function packerCommand(name: string | undefined, flags: PackerFlags, ctx: CommandContext) {
  const groups = targets(await readFleet(flags), name, flags.write, 'packer');
  const rendered = groups.map((g) => ({ group: g.name, ...packerTemplate(g, flags.format) }));
  if (flags.write !== undefined) {
    const files = rendered.map((r) => ({ group: r.group, name: r.fileName, text: r.text }));
    return writeAll(ctx, flags.write, files, flags.json);
  }
  const [only] = rendered;
  const doc: FleetPackerJson = {
    group: only!.group,
    format: flags.format,
    fileName: only!.fileName,
    template: only!.text,
  };
  if (flags.json) printJson(ctx, doc);
  else ctx.io.out(only!.text);
  return EXIT.ok;
}

/** `schema`: the fleet file's JSON Schema, for editors (docs/fleet.schema.json is this). */
export function fleetSchemaCommand(ctx: CommandContext): number {
  printJson(ctx, fleetJsonSchema());
  return EXIT.ok;
}
