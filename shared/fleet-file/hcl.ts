/**
 * Just enough HCL2 native syntax to write Packer templates: blocks with labels, attributes whose
 * values are strings, numbers, booleans, lists, objects, or expressions written as they are.
 */

/** An HCL expression written verbatim (`local.timestamp`, a function call). */
export class HclExpression {
  constructor(readonly text: string) {}
}

export type HclValue =
  string | number | boolean | null | HclExpression | HclValue[] | { [key: string]: HclValue };

export interface HclBlock {
  type: string;
  labels: string[];
  attributes: [string, HclValue][];
  blocks: HclBlock[];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * A quoted HCL string: JSON escapes, plus `${` and `%{` doubled so template sequences in a value
 * stay literal text (an AMI description with `${` in it is not an interpolation).
 */
export function hclString(text: string): string {
  // Function replacements: in a replacement string `$$` would mean one `$`.
  return JSON.stringify(text)
    .replaceAll('${', () => '$${')
    .replaceAll('%{', () => '%%{');
}

/** A template string whose `${…}` parts are interpolations of the given expressions. */
export function hclTemplate(parts: readonly (string | HclExpression)[]): HclExpression {
  const body = parts.map((p) => (p instanceof HclExpression ? `\${${p.text}}` : hclString(p).slice(1, -1)));
  return new HclExpression(`"${body.join('')}"`);
}

function value(v: HclValue, indent: string): string {
  if (v instanceof HclExpression) return v.text;
  if (typeof v === 'string') return hclString(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    const items = v.map((item) => value(item, inner));
    // Short lists of scalars on one line, as `packer fmt` leaves them.
    const oneLine = `[${items.join(', ')}]`;
    if (oneLine.length <= 80 && !oneLine.includes('\n')) return oneLine;
    return `[\n${items.map((item) => `${inner}${item},`).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(v).map(
    ([k, item]) => [IDENTIFIER.test(k) ? k : hclString(k), item] as const,
  );
  if (entries.length === 0) return '{}';
  const width = Math.max(...entries.map(([k]) => k.length));
  return `{\n${entries.map(([k, item]) => `${inner}${k.padEnd(width)} = ${value(item, inner)}`).join('\n')}\n${indent}}`;
}

function block(b: HclBlock, indent: string): string {
  const inner = `${indent}  `;
  const head = [b.type, ...b.labels.map(hclString)].join(' ');
  const width = Math.max(0, ...b.attributes.map(([k]) => k.length));
  const lines = [
    ...b.attributes.map(([k, v]) => `${inner}${k.padEnd(width)} = ${value(v, inner)}`),
    ...b.blocks.map((child) => block(child, inner)),
  ];
  return `${indent}${head} {\n${lines.join('\n')}\n${indent}}`;
}

/** The blocks as an HCL file, a blank line between top-level blocks. */
export function renderHcl(blocks: readonly HclBlock[]): string {
  return blocks.map((b) => block(b, '')).join('\n\n') + '\n';
}
