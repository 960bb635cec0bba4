/**
 * Reads back the HCL2 native syntax drover writes (blocks, attributes, strings, numbers, bools,
 * lists, objects, expressions), so tests check Packer templates as data rather than as text.
 * Strict: anything else it meets is an error, so malformed output fails the test.
 */

export type HclData = string | number | boolean | null | { expression: string } | HclData[] | HclObject;
export interface HclObject {
  [key: string]: HclData;
}
export interface HclBlockData {
  type: string;
  labels: string[];
  attributes: Record<string, HclData>;
  blocks: HclBlockData[];
}

export function readHcl(text: string): HclBlockData[] {
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(`HCL: ${what} at offset ${pos}: ${JSON.stringify(text.slice(pos, pos + 30))}`);
  };
  const space = (newlines: boolean) => {
    for (;;) {
      const m = (newlines ? /^(\s+|#[^\n]*)/ : /^([ \t]+|#[^\n]*)/).exec(text.slice(pos));
      if (!m) return;
      pos += m[0].length;
    }
  };
  const ident = (): string => {
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(pos));
    if (!m) return fail('expected a name');
    pos += m[0].length;
    return m[0];
  };
  const string = (): string => {
    const m = /^"((?:[^"\\\n]|\\.)*)"/.exec(text.slice(pos));
    if (!m) return fail('expected a string');
    pos += m[0].length;
    if (/(?<!\$)\$\{|(?<!%)%\{/.test(m[1]!.replaceAll('$${', '').replaceAll('%%{', ''))) {
      return `\${template}${m[1]}`;
    }
    return (JSON.parse(`"${m[1]}"`) as string).replaceAll('$${', '${').replaceAll('%%{', '%{');
  };
  const value = (): HclData => {
    space(true);
    const c = text[pos];
    if (c === '"') {
      const s = string();
      return s.startsWith('${template}') ? { expression: `"${s.slice(11)}"` } : s;
    }
    if (c === '[') {
      pos++;
      const items: HclData[] = [];
      for (space(true); text[pos] !== ']'; space(true)) {
        items.push(value());
        space(true);
        if (text[pos] === ',') pos++;
        else if (text[pos] !== ']') fail('expected , or ]');
      }
      pos++;
      return items;
    }
    if (c === '{') {
      pos++;
      const object: HclObject = {};
      for (space(true); text[pos] !== '}'; space(true)) {
        const key = text[pos] === '"' ? string() : ident();
        space(false);
        if (text[pos++] !== '=') fail('expected =');
        object[key] = value();
      }
      pos++;
      return object;
    }
    const m = /^[^\n]+/.exec(text.slice(pos))!;
    pos += m[0].length;
    const raw = m[0].trim().replace(/,$/, '');
    if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
    if (raw === 'true' || raw === 'false') return raw === 'true';
    if (raw === 'null') return null;
    if (!/^[A-Za-z_][\w.-]*(\(.*\))?$/.test(raw)) fail('expected an expression');
    return { expression: raw };
  };
  const body = (top: boolean): Omit<HclBlockData, 'type' | 'labels'> => {
    const result: Omit<HclBlockData, 'type' | 'labels'> = { attributes: {}, blocks: [] };
    for (space(true); top ? pos < text.length : text[pos] !== '}'; space(true)) {
      const name = ident();
      space(false);
      if (text[pos] === '=') {
        pos++;
        if (name in result.attributes) fail(`duplicate attribute ${name}`);
        result.attributes[name] = value();
        continue;
      }
      const labels: string[] = [];
      while (text[pos] === '"') {
        labels.push(string());
        space(false);
      }
      if (text[pos++] !== '{') fail('expected { or =');
      result.blocks.push({ type: name, labels, ...body(false) });
      pos++;
    }
    return result;
  };
  return body(true).blocks;
}
