/**
 * Positions in a parsed YAML (or JSON) document: where a setting, or the key naming it, was
 * written, so every complaint about the fleet file can point at its line and column.
 */
import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { FilePosition } from './errors.ts';

export type SettingPath = readonly (string | number)[];

/** A setting's path as people write it: `www.run_list[2]`. */
export const dotted = (path: SettingPath): string =>
  path.reduce<string>(
    (text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${part}` : part),
    '',
  );

/** The key node and the value node of `path`, as deep as the document goes. */
interface Found {
  key?: Node;
  value?: Node;
  /** Whether the whole path exists (otherwise `key`/`value` are of its deepest existing part). */
  complete: boolean;
}

function find(doc: Document, path: SettingPath): Found {
  let found: Found = { value: doc.contents ?? undefined, complete: true };
  for (const segment of path) {
    const node = found.value;
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) return { ...found, complete: false };
      found = { key: pair.key as Node, value: (pair.value as Node | null) ?? undefined, complete: true };
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
      found = { value: node.items[segment] as Node, complete: true };
    } else {
      return { ...found, complete: false };
    }
  }
  return found;
}

/** Locates settings of one parsed document. */
export class DocumentPositions {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  #at(node: Node | undefined): FilePosition | undefined {
    const offset = node?.range?.[0];
    if (offset === undefined) return undefined;
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /** Where the value at `path` is (or its key, for an empty value; or its nearest parent). */
  value(path: SettingPath): FilePosition | undefined {
    const found = find(this.doc, path);
    if (!found.complete) return this.#at(found.key ?? found.value);
    return this.#at(found.value) ?? this.#at(found.key);
  }

  /** Where the key of `path` is written (for unknown keys and bad names). */
  key(path: SettingPath): FilePosition | undefined {
    const found = find(this.doc, path);
    return this.#at(found.key ?? found.value);
  }

  /** Where an offset of the text is. */
  offset(offset: number): FilePosition {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }
}
