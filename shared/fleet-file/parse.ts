/**
 * Reads the fleet file's text (YAML; JSON is YAML too) and checks it against the schema, turning
 * every problem into a line and column of the file.
 */
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { FleetFileError, type FleetFileProblem } from './errors.ts';
import { DocumentPositions, dotted } from './positions.ts';
import { BASE_GROUP, GROUP_KEYS, GROUP_NAME, fleetFileSchema, type RawGroup } from './schema.ts';
import { nearest } from './nearest.ts';
import { GROUP_NAME_RULE } from './group-name.ts';

/** The file as written, checked against the schema, before inheritance. */
export interface ParsedFleetFile {
  file: string;
  base: RawGroup;
  /** Groups in file order. */
  groups: Map<string, RawGroup>;
  positions: DocumentPositions;
}

/** A union's problems: those of the branch the value was meant for (the one whose type matched). */
function unionProblems(issue: z.core.$ZodIssueInvalidUnion): z.core.$ZodIssue[] | undefined {
  // A branch that failed at the value itself was not the one meant; one that failed inside was.
  const branches = issue.errors.filter((branch) => !branch.every((i) => i.path.length === 0));
  if (branches.length !== 1) return undefined;
  return branches[0]!.map((i) => ({ ...i, path: [...issue.path, ...i.path] }));
}

function problemsOf(issue: z.core.$ZodIssue, positions: DocumentPositions): FleetFileProblem[] {
  const path = issue.path as (string | number)[];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const near = path.length === 1 ? nearest(key, GROUP_KEYS) : undefined;
      const hint =
        path[0] === BASE_GROUP && key === 'inherits'
          ? ': __base__ is what every group inherits, it inherits nothing'
          : near && near !== key
            ? `; did you mean "${near}"?`
            : '';
      return {
        path: dotted([...path, key]),
        message: `unknown key${hint}`,
        ...positions.key([...path, key]),
      };
    });
  }
  if (issue.code === 'invalid_union') {
    const inner = unionProblems(issue);
    if (inner) return inner.flatMap((i) => problemsOf(i, positions));
    if (path.at(-1) === 'autoscale') {
      return [
        {
          path: dotted(path),
          message: 'expected false or a map of asg, node_min, node_max, timeout',
          ...positions.value(path),
        },
      ];
    }
  }
  return [{ path: dotted(path), message: issue.message, ...positions.value(path) }];
}

/** Group names: the alphabet of Chef role names; `__` is reserved for `__base__`. */
function nameProblems(names: readonly string[], positions: DocumentPositions): FleetFileProblem[] {
  const problems: FleetFileProblem[] = [];
  for (const name of names) {
    if (name === BASE_GROUP || name === '$schema' || GROUP_NAME.test(name)) continue;
    const message = name.startsWith('__')
      ? `names starting with "__" are reserved (the base group is spelled ${BASE_GROUP})`
      : GROUP_NAME_RULE;
    problems.push({ path: name, message, ...positions.key([name]) });
  }
  return problems;
}

/**
 * The document as plain data. Aliases are expanded here, so this is where an alias to a missing
 * anchor, or an alias bomb (aliases of aliases, exponentially many values), is refused.
 */
function toPlainData(doc: Document, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error: unknown) {
    if (!(error instanceof ReferenceError)) throw error;
    throw new FleetFileError(file, [{ path: '', message: error.message }], { cause: error });
  }
}

/** Paths of `__proto__` keys: zod and object spreads would drop them (or worse), silently. */
function protoKeys(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => protoKeys(item, [...path, i]));
  if (typeof value !== 'object' || value === null) return [];
  return Object.keys(value).flatMap((key) =>
    key === '__proto__'
      ? [[...path, key]]
      : protoKeys((value as Record<string, unknown>)[key], [...path, key]),
  );
}

const byPosition = (a: FleetFileProblem, b: FleetFileProblem) =>
  (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);

/**
 * Parses and checks the fleet file's text. Throws FleetFileError listing every problem (syntax,
 * unknown keys, wrong types, bad names) with its line and column.
 */
export function parseFleetText(text: string, file: string): ParsedFleetFile {
  const lines = new LineCounter();
  // YAML 1.2 core: no `<<` merge keys (they would bypass the merge rules), no duplicate keys.
  // logLevel error: a map used as a key is reported as a bad group name, not as a process warning.
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    logLevel: 'error',
  });
  const positions = new DocumentPositions(doc, lines);
  if (doc.errors.length > 0) {
    throw new FleetFileError(
      file,
      doc.errors.map((e) => ({
        path: '',
        message: e.message.split('\n')[0]!,
        ...positions.offset(e.pos[0]),
      })),
    );
  }
  const content = toPlainData(doc, file);
  const unkeepable = protoKeys(content).map((path) => ({
    path: dotted(path),
    message: 'a key named __proto__ cannot be kept (JavaScript objects treat it specially): rename it',
    ...positions.key(path),
  }));
  if (unkeepable.length > 0) throw new FleetFileError(file, unkeepable);
  const parsed = fleetFileSchema.safeParse(content);
  const problems = parsed.success ? [] : parsed.error.issues.flatMap((i) => problemsOf(i, positions));
  if (typeof content === 'object' && content !== null && !Array.isArray(content)) {
    problems.push(...nameProblems(Object.keys(content), positions));
  } else if (parsed.success === false && problems.length === 1 && problems[0]!.path === '') {
    problems[0]!.message = 'the fleet file is a map of group names to their settings';
  }
  if (!parsed.success || problems.length > 0) throw new FleetFileError(file, problems.sort(byPosition));

  const { $schema: _schema, [BASE_GROUP]: base, ...groups } = parsed.data;
  return {
    file,
    base: base ?? {},
    groups: new Map(Object.entries(groups).map(([name, group]) => [name, group ?? {}])),
    positions,
  };
}
