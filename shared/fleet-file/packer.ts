/**
 * A Packer template per group (the notes' `packer:create`): one builder from the group's
 * instance settings, in HCL2 (what Packer reads today) or the notes' legacy JSON. No credentials:
 * Packer finds its own (environment, shared config, instance role).
 */
import type { FleetGroup } from './resolve.ts';
import { isPlainMap } from './merge.ts';
import { HclExpression, hclTemplate, renderHcl, type HclBlock, type HclValue } from './hcl.ts';

export type PackerFormat = 'hcl' | 'json';

/** The source block's name: fixed, since group names may start with a digit (not an HCL name). */
const SOURCE_NAME = 'group';

/** Builder settings that are maps of strings in HCL2 (attributes); every other map is a block. */
const MAP_ATTRIBUTE = /(^|_)tags$|^filters$/;

/** The builder settings every template has, in the order written; `packer` settings follow. */
function builderSettings(group: FleetGroup): Record<string, unknown> {
  const s = group.settings;
  const settings: Record<string, unknown> = {
    region: s.region,
    source_ami: s.source_ami,
    instance_type: s.instance_type,
    ssh_username: s.ssh_username ?? 'ubuntu',
    ...s.packer,
    tags: { group: group.name, ...(isPlainMap(s.packer?.tags) ? s.packer.tags : {}) },
  };
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
}

const builderType = (group: FleetGroup): string => group.settings.type ?? 'amazon-ebs';

/** Settings as HCL: map-valued settings become nested blocks (lists of maps, repeated blocks). */
function hclBody(settings: Record<string, unknown>): Pick<HclBlock, 'attributes' | 'blocks'> {
  const attributes: [string, HclValue][] = [];
  const blocks: HclBlock[] = [];
  for (const [key, v] of Object.entries(settings)) {
    const asBlocks =
      MAP_ATTRIBUTE.test(key) || v instanceof HclExpression
        ? undefined
        : isPlainMap(v)
          ? [v]
          : Array.isArray(v) && v.length > 0 && v.every(isPlainMap)
            ? v
            : undefined;
    if (asBlocks) blocks.push(...asBlocks.map((b) => ({ type: key, labels: [], ...hclBody(b) })));
    else attributes.push([key, v as HclValue]);
  }
  return { attributes, blocks };
}

/** The template in HCL2: the amazon plugin when the builder is one of its, a source, a build. */
export function packerHcl(group: FleetGroup): string {
  const type = builderType(group);
  const timestamp = new HclExpression('local.timestamp');
  const settings = { ami_name: hclTemplate([`${group.name}-`, timestamp]), ...builderSettings(group) };
  const blocks: HclBlock[] = [];
  if (type.startsWith('amazon-')) {
    blocks.push({
      type: 'packer',
      labels: [],
      attributes: [],
      blocks: [
        {
          type: 'required_plugins',
          labels: [],
          attributes: [['amazon', { source: 'github.com/hashicorp/amazon', version: '>= 1.3.0' }]],
          blocks: [],
        },
      ],
    });
  }
  blocks.push(
    {
      type: 'locals',
      labels: [],
      // AMI names are unique per region: a build time in the name keeps each build's.
      attributes: [['timestamp', new HclExpression('regex_replace(timestamp(), "[- TZ:]", "")')]],
      blocks: [],
    },
    { type: 'source', labels: [type, SOURCE_NAME], ...hclBody(settings) },
    {
      type: 'build',
      labels: [],
      attributes: [
        ['name', group.name],
        ['sources', [`source.${type}.${SOURCE_NAME}`]],
      ],
      blocks: [],
    },
  );
  const header = `# Packer template of node group ${group.name}, from the fleet file (drover fleet packer).\n`;
  return (
    header +
    (group.settings.description ? `# ${group.settings.description.replace(/\s+/g, ' ')}\n` : '') +
    '\n' +
    renderHcl(blocks)
  );
}

/** The template in Packer's legacy JSON, as the notes wrote it (minus their credentials). */
export function packerJson(group: FleetGroup): Record<string, unknown> {
  return {
    ...(group.settings.description ? { description: group.settings.description } : {}),
    builders: [
      { type: builderType(group), ami_name: `${group.name}-{{timestamp}}`, ...builderSettings(group) },
    ],
  };
}

/** The template as text in `format`, and the file name `--write` gives it. */
export function packerTemplate(group: FleetGroup, format: PackerFormat): { text: string; fileName: string } {
  return format === 'hcl'
    ? { text: packerHcl(group), fileName: `${group.name}.pkr.hcl` }
    : { text: JSON.stringify(packerJson(group), null, 2) + '\n', fileName: `${group.name}.pkr.json` };
}
