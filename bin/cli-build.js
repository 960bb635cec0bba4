/**
 * The built CLI: bin/compose.ts bundled by esbuild into dist/cli/<build>/ (ES module chunks, so a
 * command loads only the code it uses, and no TypeScript is compiled at start-up). A build
 * records the modification time of every source file it read; when one changed (or the install
 * did), the next `drover` rebuilds first, so editing the sources needs no build step.
 *
 * Plain JavaScript: it runs before any TypeScript can be loaded. Types: cli-build.d.ts.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Files that change what a build produces without being one of its inputs. */
const ALSO_WATCHED = [
  'bin/cli-build.js',
  'package.json',
  'package-lock.json',
  'node_modules/.package-lock.json',
];
/** A lock older than this is taken over even if its builder seems alive (a reused pid). */
const LOCK_STALE_MS = 60_000;
/** How long an earlier build is kept for a drover still running from it (see removeOldBuilds). */
const OLD_BUILD_MS = 10 * 60_000;

/** @param {string} root */
export const buildPaths = (root = ROOT) => {
  const dir = join(root, 'dist', 'cli');
  return { dir, manifest: join(dir, 'current.json'), lock: join(dir, 'build.lock') };
};

/**
 * Why the build described by `manifest` cannot be used, or undefined when it can.
 * @param {unknown} manifest @param {string} root
 * @returns {string | undefined}
 */
export function staleness(manifest, root = ROOT) {
  if (manifest === undefined) return 'no build';
  const m = /** @type {{ root?: unknown; entry?: unknown; inputs?: unknown }} */ (manifest);
  if (m.root !== root) return 'built for another checkout';
  if (typeof m.entry !== 'string' || typeof m.inputs !== 'object' || m.inputs === null) return 'no build';
  for (const [file, mtimeMs] of Object.entries(m.inputs)) {
    let now;
    try {
      now = statSync(join(root, file)).mtimeMs;
    } catch {
      now = null; // removed since (or never there: a file that was absent must stay absent)
    }
    if (now !== mtimeMs) return `${file} changed`;
  }
  try {
    statSync(join(root, m.entry));
  } catch {
    return 'build removed';
  }
  return undefined;
}

/** @param {string} root */
export function readManifest(root = ROOT) {
  try {
    return JSON.parse(readFileSync(buildPaths(root).manifest, 'utf8'));
  } catch {
    return undefined;
  }
}

/** @param {string[]} files @param {string} root */
function mtimes(files, root) {
  /** @type {Record<string, number | null>} */
  const out = {};
  for (const file of files) {
    try {
      out[file] = statSync(join(root, file)).mtimeMs;
    } catch {
      out[file] = null;
    }
  }
  return out;
}

/**
 * Bundles bin/compose.ts into a new dist/cli/<build>/ and makes it the current build. Times are
 * taken before bundling, so a file edited during the build makes the next start rebuild.
 * @param {string} root
 */
export async function buildCli(root = ROOT) {
  const { dir, manifest } = buildPaths(root);
  const id = `${Date.now().toString(36)}-${process.pid}`;
  const outdir = join(dir, id);
  const { build, stop } = await import('esbuild');
  const sourcesBefore = Date.now();
  // esbuild's service is a child process: stopped once built, so this process (a long-lived
  // `drover agent` maybe) keeps no child of it.
  const result = await build({
    absWorkingDir: root,
    entryPoints: { compose: join(root, 'bin', 'compose.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The ES module builds of the SDK: smaller, and the parts a command does not use are shaken out.
    mainFields: ['module', 'main'],
    // Some bundled CommonJS dependencies call require() for Node built-ins; an ES module has none.
    banner: {
      js: "import { createRequire as __droverCreateRequire } from 'node:module';\nconst require = __droverCreateRequire(import.meta.url);",
    },
    external: ['esbuild', 'tsx', 'tsx/*'],
    plugins: [componentsFromSources(root), zodEnglishOnly()],
    // `drover --debug` turns source maps on (bin/drover.js): stack traces name the .ts sources.
    sourcemap: true,
    sourcesContent: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
  }).finally(stop);
  const inputs = Object.keys(result.metafile.inputs).filter((file) => !file.includes('node_modules/'));
  const record = {
    root,
    entry: relative(root, join(outdir, 'compose.js')),
    built: new Date(sourcesBefore).toISOString(),
    inputs: mtimes([...inputs, ...ALSO_WATCHED], root),
  };
  // Inputs edited while bundling: record them as changed, so the next start builds again.
  for (const [file, mtimeMs] of Object.entries(record.inputs)) {
    if (mtimeMs !== null && mtimeMs >= sourcesBefore) record.inputs[file] = -1;
  }
  const temporary = `${manifest}.${id}`;
  writeFileSync(temporary, JSON.stringify(record, null, 1) + '\n');
  renameSync(temporary, manifest); // atomic: a concurrent drover sees the old build or this one
  try {
    removeOldBuilds(dir, id);
  } catch {
    // Another drover removed one meanwhile: the next build tidies up.
  }
  return record;
}

/**
 * `drover local` and `drover agent` stay out of the bundle: compose.ts imports them from their
 * sources (by absolute URL) when one of them is the command being run.
 * @param {string} root
 * @returns {import('esbuild').Plugin}
 */
function componentsFromSources(root) {
  return {
    name: 'components-from-sources',
    setup(build) {
      build.onResolve({ filter: /^\.\.\/(local|agent)\// }, (args) => {
        if (args.importer !== join(root, 'bin', 'compose.ts')) return undefined;
        return { path: pathToFileURL(join(root, 'bin', args.path)).href, external: true };
      });
    },
  };
}

/**
 * zod's messages in English only: its 40-odd other locales are half its code, parsed at every
 * start of a command that loads zod, and the CLI never picks one (`z.locales.*` is unused; zod
 * registers English by importing locales/en.js itself).
 * @returns {import('esbuild').Plugin}
 */
function zodEnglishOnly() {
  return {
    name: 'zod-english-only',
    setup(build) {
      build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
        /node_modules\/zod\/v4\/(classic|core|mini)\//.test(args.importer)
          ? { path: join(dirname(args.importer), '..', 'locales', 'en.js'), namespace: 'zod-english-only' }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
        contents: `export { default as en } from ${JSON.stringify(args.path)};`,
        resolveDir: dirname(args.path),
      }));
    },
  };
}

/**
 * Builds but the current one and the two before it go once OLD_BUILD_MS old: a drover started
 * from one of them may still load a chunk it had not needed yet.
 * @param {string} dir @param {string} keep
 */
function removeOldBuilds(dir, keep) {
  const builds = readdirSync(dir)
    .filter((name) => name !== keep && statSync(join(dir, name)).isDirectory())
    .map((name) => ({ path: join(dir, name), mtimeMs: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const build of builds.slice(2)) {
    if (Date.now() - build.mtimeMs > OLD_BUILD_MS) rmSync(build.path, { recursive: true, force: true });
  }
}

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One builder at a time: the others wait for its build (several `drover` started at once after
 * an edit, as tests do). The lock file holds the builder's pid: one left by a builder that died is
 * taken over at once.
 * @param {string} root @param {() => Promise<unknown>} work
 */
export async function withBuildLock(root, work) {
  const { dir, lock } = buildPaths(root);
  mkdirSync(dir, { recursive: true });
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      if (lockIsStale(lock)) rmSync(lock, { force: true });
      else await sleep(50);
      if (staleness(readManifest(root), root) === undefined) return; // the other builder finished
    }
  }
  try {
    if (staleness(readManifest(root), root) !== undefined) await work();
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * A lock whose builder is gone (killed mid-build) or that is older than any build takes.
 * @param {string} lock
 */
function lockIsStale(lock) {
  try {
    if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) return true;
    const pid = Number(readFileSync(lock, 'utf8'));
    if (!Number.isSafeInteger(pid) || pid <= 0) return false; // being written just now
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // ESRCH: no such process; ENOENT: released meanwhile (nothing to remove, try again).
    return /** @type {NodeJS.ErrnoException} */ (error).code === 'ESRCH';
  }
}

/**
 * The URL of the built CLI's entry, building it first when the sources changed; undefined when
 * it cannot be built (esbuild not installed, `DROVER_CLI_BUILD=0`, a build error): the caller
 * then runs the sources.
 * @param {string} root
 * @returns {Promise<string | undefined>}
 */
export async function builtCli(root = ROOT) {
  if (process.env.DROVER_CLI_BUILD === '0') return undefined;
  let manifest = readManifest(root);
  if (staleness(manifest, root) !== undefined) {
    try {
      await withBuildLock(root, () => buildCli(root));
    } catch {
      return undefined; // the sources report the same error, with TypeScript's positions
    }
    manifest = readManifest(root);
    if (staleness(manifest, root) !== undefined) return undefined;
  }
  return pathToFileURL(join(root, manifest.entry)).href;
}
