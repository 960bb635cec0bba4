/**
 * What each command loads before it can do anything (issue 18.1: the command starts at once). A
 * module a command imports statically is read, compiled and run at every start of that command,
 * even when its work never calls it; these are the heavy ones a command must not pull in unless it
 * uses them. The import graph is esbuild's, as the built CLI's (bin/cli-build.js).
 */
import { describe, expect, it } from 'vitest';
import { build, type Metafile } from 'esbuild';
import { ROOT } from '../../bin/cli-build.js';

const ACTIONS = ['find', 'facts', 'runs', 'show', 'run', 'ping'] as const;

let graph: Metafile | undefined;
async function importGraph(): Promise<Metafile> {
  graph ??= (
    await build({
      absWorkingDir: ROOT,
      entryPoints: ['bin/compose.ts', ...ACTIONS.map((a) => `cli/actions/${a}.ts`)],
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      mainFields: ['module', 'main'],
      outdir: 'dist/start-loads-test',
      write: false,
      metafile: true,
      logLevel: 'silent',
      external: ['esbuild', 'tsx', 'tsx/*', './local/*', '../local/*', '../agent/*'],
    })
  ).metafile;
  return graph;
}

/** The inputs `entry` loads before it runs: its static imports, transitively (not `await import`). */
async function loadedAtStart(entry: string): Promise<string[]> {
  const { inputs } = await importGraph();
  const seen = new Set([entry]);
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const { path, kind, external } of inputs[file]?.imports ?? []) {
      if (kind === 'dynamic-import' || external || seen.has(path)) continue;
      seen.add(path);
      queue.push(path);
    }
  }
  return [...seen];
}

const REQUEST_SCHEMAS = 'shared/messages.ts';
const REGEX_ENGINE = 'node_modules/re2js/';

describe('what a command loads at start', () => {
  it('drover alone, --version and --help load no AWS SDK, zod or regex engine', async () => {
    const loaded = await loadedAtStart('bin/compose.ts');
    expect(loaded.filter((f) => /node_modules\/(@aws-sdk|@smithy|zod|re2js)\//.test(f))).toEqual([]);
  }, 60_000);

  it("find and facts parse the filter but do not load the run request's schemas", async () => {
    for (const action of ['find', 'facts']) {
      const loaded = await loadedAtStart(`cli/actions/${action}.ts`);
      expect(loaded.some((f) => f.includes(REGEX_ENGINE))).toBe(true);
      expect(loaded).not.toContain(REQUEST_SCHEMAS);
    }
  }, 60_000);

  it('runs and show print filters without loading the regex engine or the request schemas', async () => {
    for (const action of ['runs', 'show']) {
      const loaded = await loadedAtStart(`cli/actions/${action}.ts`);
      expect(loaded.filter((f) => f.includes(REGEX_ENGINE))).toEqual([]);
      expect(loaded).not.toContain(REQUEST_SCHEMAS);
    }
  }, 60_000);

  it('run and ping check their request against its schema before sending it', async () => {
    for (const action of ['run', 'ping']) {
      expect(await loadedAtStart(`cli/actions/${action}.ts`)).toContain(REQUEST_SCHEMAS);
    }
  }, 60_000);
});
