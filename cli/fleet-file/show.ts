/**
 * `drover fleet show <group>` as text: the merged group in YAML, each value with the layer it
 * came from (`__base__`, a group it inherits, the group itself, or `default`).
 */
import { stringify } from 'yaml';
import type { FleetGroup, ValueOrigin } from '#shared/fleet-file/index.ts';

/** A value on one line, as YAML flow writes it. */
const inline = (value: unknown): string =>
  stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd().replace(/\n/g, ' ');

/** Values longer than this do not widen the column of origins. */
const COLUMN_CAP = 60;

/** The order `show` prints settings in: the file's order of concerns, not alphabetical. */
const ORDER = [
  'description',
  'type',
  'region',
  'instance_type',
  'source_ami',
  'ssh_username',
  'security_groups',
  'packer',
  'autoscale',
  'default_attributes',
  'override_attributes',
  'run_list',
  'post_run_list',
  'requires',
  'facts',
  'bootstrap',
  'decommission',
  'reactions',
];

function rows(key: string, value: unknown, origin: ValueOrigin | undefined): string[][] {
  if (origin?.kind === 'list' && Array.isArray(value)) {
    if (value.length === 0) return [[`${key}: []`, origin.items[0] ?? '']];
    return [[`${key}:`, ''], ...value.map((item, i) => [`  - ${inline(item)}`, origin.items[i] ?? ''])];
  }
  if (origin?.kind === 'map' && typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return [[`${key}: {}`, '']];
    return [[`${key}:`, ''], ...entries.map(([k, v]) => [`  ${k}: ${inline(v)}`, origin.keys[k] ?? ''])];
  }
  return [[`${key}: ${inline(value)}`, origin?.kind === 'value' ? origin.from : '']];
}

/** The merged group, one setting (or list item, or map key) a line, its origin on the right. */
export function showText(group: FleetGroup): string {
  const settings: Record<string, unknown> = {
    ...group.settings,
    ...(group.bootstrap !== undefined ? { bootstrap: group.bootstrap } : {}),
    ...(group.decommission !== undefined ? { decommission: group.decommission } : {}),
  };
  const keys = Object.keys(settings).sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
  const table = keys.flatMap((key) => rows(key, settings[key], group.origins[key]));
  // Origins line up, except after the odd long value (a bootstrap command) that would push them all.
  const width = Math.max(0, ...table.map(([text]) => text!.length).filter((n) => n <= COLUMN_CAP));
  const body = table.map(([text, from]) => (from ? `${text!.padEnd(width)}  # ${from}` : text!)).join('\n');
  const head = `# group ${group.name}: ${group.lineage.join(' → ')}\n`;
  const tail =
    `# role run list: ${group.runList.length === 0 ? '(empty)' : group.runList.join(', ')}\n` +
    `# facts its hosts report: ${inline(group.facts)}\n`;
  return head + body + '\n' + tail;
}
