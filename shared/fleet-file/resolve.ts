/**
 * Inheritance: every group merged with `__base__` (and the groups it `inherits`), then the checks
 * that need the merged group (barriers naming real groups, autoscale bounds, credentials).
 */
import { FleetFileError, UnknownGroupError, type FleetFileProblem } from './errors.ts';
import { mergeLayers, type Layer, type Origin, type ValueOrigin } from './merge.ts';
import type { ParsedFleetFile } from './parse.ts';
import { dotted } from './positions.ts';
import { BASE_GROUP, CREDENTIAL_KEYS, REQUIREMENT, type RawGroup } from './schema.ts';
import { defaultBootstrap, defaultDecommission } from './chef-role.ts';

/** A group's settings after inheritance (no nulls left: a null removed the value). */
export type GroupSettings = { [K in Exclude<keyof RawGroup, 'inherits'>]?: NonNullable<RawGroup[K]> };

export interface Requirement {
  group: string;
  /** Hosts of `group` in service before this group's bootstrap runs. */
  count: number;
}

export interface FleetGroup {
  name: string;
  /** The layers merged, most general first: `__base__`, inherited groups, the group. */
  lineage: string[];
  settings: GroupSettings;
  /** Where each setting came from (`default` for commands drover fills in). */
  origins: Record<string, ValueOrigin>;
  /** The Chef run list: `run_list`, then `post_run_list`. */
  runList: string[];
  bootstrap?: string;
  decommission?: string;
  requires: Requirement[];
  /** Facts every host of the group reports, `group` among them. */
  facts: Record<string, unknown>;
}

export interface FleetFile {
  file: string;
  groups: Map<string, FleetGroup>;
}

/** The chain of groups `name` inherits, most general first, or the problem with it. */
function lineageOf(parsed: ParsedFleetFile, name: string): string[] | FleetFileProblem {
  const chain = [name];
  for (let parent = parsed.groups.get(name)?.inherits; parent && parent !== BASE_GROUP;) {
    const from = chain[chain.length - 1]!;
    if (chain.includes(parent)) {
      // Each group of the cycle reports it from itself; one that only leads into it stays quiet.
      if (parent !== name) return [];
      return {
        path: `${name}.inherits`,
        message: `inheritance cycle: ${[...chain, parent].join(' → ')}`,
        ...parsed.positions.value([name, 'inherits']),
      };
    }
    if (!parsed.groups.has(parent)) {
      return {
        path: `${from}.inherits`,
        message: `inherits from "${parent}", which is not a group of this file`,
        ...parsed.positions.value([from, 'inherits']),
      };
    }
    chain.push(parent);
    parent = parsed.groups.get(parent)?.inherits;
  }
  return [BASE_GROUP, ...chain.reverse()];
}

/** The layer and index within it that wrote item `index` of a merged list. */
function itemSource(origin: ValueOrigin | undefined, index: number): [Origin, number] {
  if (origin?.kind !== 'list') return [BASE_GROUP, index];
  const from = origin.items[index]!;
  return [from, origin.items.slice(0, index).filter((o) => o === from).length];
}

/** Checks of one merged group; positions point at the layer that wrote the offending value. */
function groupProblems(parsed: ParsedFleetFile, group: FleetGroup): FleetFileProblem[] {
  const problems: FleetFileProblem[] = [];
  const at = (from: Origin, path: (string | number)[], message: string) =>
    problems.push({ path: dotted([from, ...path]), message, ...parsed.positions.value([from, ...path]) });
  const { settings, origins, name } = group;

  (settings.requires ?? []).forEach((entry, index) => {
    const [from, i] = itemSource(origins.requires, index);
    const [, required] = REQUIREMENT.exec(entry) ?? [];
    if (required === name) {
      at(
        from,
        ['requires', i],
        `${name} cannot wait for itself${from === name ? '' : ` (it inherits this from ${from})`}`,
      );
    } else if (required !== undefined && !parsed.groups.has(required)) {
      at(from, ['requires', i], `"${required}" is not a group of this file`);
    }
  });
  (settings.reactions ?? []).forEach((reaction, index) => {
    if (parsed.groups.has(reaction.group)) return;
    const [from, i] = itemSource(origins.reactions, index);
    at(from, ['reactions', i, 'group'], `"${reaction.group}" is not a group of this file`);
  });
  const autoscale = settings.autoscale;
  if (autoscale && autoscale.node_min !== undefined && autoscale.node_max !== undefined) {
    if (autoscale.node_min > autoscale.node_max) {
      const from = origins.autoscale?.kind === 'map' ? origins.autoscale.keys.node_max! : name;
      at(
        from,
        ['autoscale', 'node_max'],
        `node_max ${autoscale.node_max} is below node_min ${autoscale.node_min}`,
      );
    }
  }
  for (const key of CREDENTIAL_KEYS) {
    if (settings.packer?.[key] === undefined || origins.packer?.kind !== 'map') continue;
    at(
      origins.packer.keys[key]!,
      ['packer', key],
      'no credentials in the fleet file: Packer reads its own (environment, shared config, instance role)',
    );
  }
  const factGroup = settings.facts?.group;
  if (factGroup !== undefined && factGroup !== name && origins.facts?.kind === 'map') {
    at(origins.facts.keys.group!, ['facts', 'group'], `the group fact of ${name}'s hosts is "${name}"`);
  }
  return problems;
}

/** Barrier cycles (a waits for b, b for a) would keep both groups from ever bootstrapping. */
function barrierCycles(parsed: ParsedFleetFile, groups: Map<string, FleetGroup>): FleetFileProblem[] {
  const problems: FleetFileProblem[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      problems.push({
        path: `${cycle[0]}.requires`,
        message: `requires cycle: ${cycle.join(' → ')} (none of them could ever bootstrap)`,
        ...parsed.positions.value([cycle[0]!, 'requires']),
      });
      return;
    }
    state.set(name, 'visiting');
    for (const r of groups.get(name)?.requires ?? []) {
      if (r.group !== name && groups.has(r.group)) visit(r.group, [...path, name]);
    }
    state.set(name, 'done');
  };
  for (const name of groups.keys()) visit(name, []);
  return problems;
}

/**
 * An Auto Scaling group holds one node group: its lifecycle hooks say which group a launching
 * instance bootstraps as. A group that inherits `autoscale` without its own `asg` would share one.
 */
function sharedAsgs(parsed: ParsedFleetFile, groups: Map<string, FleetGroup>): FleetFileProblem[] {
  const problems: FleetFileProblem[] = [];
  const owner = new Map<string, string>();
  for (const group of groups.values()) {
    const asg = group.settings.autoscale ? group.settings.autoscale.asg : undefined;
    if (asg === undefined) continue;
    const first = owner.get(asg);
    if (first === undefined) {
      owner.set(asg, group.name);
      continue;
    }
    const origin = group.origins.autoscale;
    const from = origin?.kind === 'map' ? (origin.keys.asg ?? group.name) : group.name;
    const inherited = from === group.name ? '' : ` (inherited from ${from})`;
    problems.push({
      path: dotted([group.name, 'autoscale', 'asg']),
      message: `Auto Scaling group "${asg}" is already ${first}'s${inherited}: give ${group.name} its own autoscale.asg`,
      ...parsed.positions.value([from, 'autoscale', 'asg']),
    });
  }
  return problems;
}

function buildGroup(parsed: ParsedFleetFile, name: string, lineage: string[]): FleetGroup {
  const layers: Layer[] = lineage.map((layer) => ({
    name: layer,
    settings: (layer === BASE_GROUP ? parsed.base : parsed.groups.get(layer)) ?? {},
  }));
  const { values, origins } = mergeLayers(layers, new Set(['inherits']));
  const settings = values as GroupSettings;
  const runList = [...(settings.run_list ?? []), ...(settings.post_run_list ?? [])];
  const withDefault = (key: 'bootstrap' | 'decommission', fallback: (group: string) => string) => {
    if (settings[key] !== undefined || runList.length === 0) return settings[key];
    origins[key] = { kind: 'value', from: 'default' };
    return fallback(name);
  };
  return {
    name,
    lineage,
    settings,
    origins,
    runList,
    bootstrap: withDefault('bootstrap', defaultBootstrap),
    decommission: withDefault('decommission', defaultDecommission),
    requires: (settings.requires ?? []).map((entry) => {
      const [, group, count] = REQUIREMENT.exec(entry)!;
      return { group: group!, count: Number(count) };
    }),
    facts: { ...settings.facts, group: name },
  };
}

/** Merges every group of a parsed file; throws FleetFileError with every problem found. */
export function resolveFleet(parsed: ParsedFleetFile): FleetFile {
  const problems: FleetFileProblem[] = [];
  const groups = new Map<string, FleetGroup>();
  for (const name of parsed.groups.keys()) {
    const lineage = lineageOf(parsed, name);
    if (!Array.isArray(lineage)) problems.push(lineage);
    else if (lineage.length > 0) groups.set(name, buildGroup(parsed, name, lineage));
  }
  for (const group of groups.values()) problems.push(...groupProblems(parsed, group));
  problems.push(...barrierCycles(parsed, groups), ...sharedAsgs(parsed, groups));
  const unique = [...new Map(problems.map((p) => [`${p.line}:${p.column}:${p.message}`, p])).values()];
  if (unique.length > 0) {
    throw new FleetFileError(
      parsed.file,
      unique.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)),
    );
  }
  return { file: parsed.file, groups };
}

/** One group of the file; throws UnknownGroupError naming the groups there are. */
export function fleetGroup(fleet: FleetFile, name: string): FleetGroup {
  const group = fleet.groups.get(name);
  if (!group) throw new UnknownGroupError(name, [...fleet.groups.keys()]);
  return group;
}
