/**
 * The built CLI (bin/cli-build.js): a build is used only while every source file it read is as it
 * was, so editing the sources needs no build step; a stale or missing build is rebuilt.
 */
import { describe, expect, it } from 'vitest';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  buildCli,
  buildPaths,
  builtCli,
  readManifest,
  staleness,
  withBuildLock,
  ROOT,
} from '../../bin/cli-build.js';
import { tempDirPerTest } from '../helpers/temp-dir.ts';

const temp = tempDirPerTest('drover-cli-build-');

/** This process's children that are esbuild. */
function esbuildChildren(): string[] {
  const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim();
  return children === ''
    ? []
    : children.split(' ').filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('esbuild');
        } catch {
          return false; // gone meanwhile
        }
      });
}

/** A root with two sources and a build entry, and the manifest a build of it would have written. */
function fakeBuild() {
  const root = temp.path();
  mkdirSync(join(root, 'cli'), { recursive: true });
  mkdirSync(join(root, 'dist', 'cli', 'b1'), { recursive: true });
  writeFileSync(join(root, 'cli', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'cli', 'b.ts'), 'export const b = 2;\n');
  writeFileSync(join(root, 'dist', 'cli', 'b1', 'compose.js'), '');
  const mtime = (file: string) => statSync(join(root, file)).mtimeMs;
  const manifest = {
    root,
    entry: 'dist/cli/b1/compose.js',
    built: new Date().toISOString(),
    inputs: { 'cli/a.ts': mtime('cli/a.ts'), 'cli/b.ts': mtime('cli/b.ts'), 'cli/absent.ts': null },
  };
  return { root, manifest };
}

describe('staleness', () => {
  it('accepts a build whose every input is as recorded', () => {
    const { root, manifest } = fakeBuild();

    expect(staleness(manifest, root)).toBeUndefined();
  });

  it('rejects a missing or malformed manifest', () => {
    const { root, manifest } = fakeBuild();

    expect(staleness(undefined, root)).toBe('no build');
    expect(staleness({ ...manifest, inputs: null }, root)).toBe('no build');
    expect(staleness({ ...manifest, entry: 7 }, root)).toBe('no build');
  });

  it('rejects a build made for another checkout (a moved or copied repository)', () => {
    const { root, manifest } = fakeBuild();

    expect(staleness({ ...manifest, root: '/elsewhere' }, root)).toBe('built for another checkout');
  });

  it('rejects a build once a source it read was edited', () => {
    const { root, manifest } = fakeBuild();
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(root, 'cli', 'b.ts'), later, later);

    expect(staleness(manifest, root)).toBe('cli/b.ts changed');
  });

  it('rejects a build once a source it read is gone, or one that was absent appears', () => {
    const { root, manifest } = fakeBuild();
    rmSync(join(root, 'cli', 'a.ts'));

    expect(staleness(manifest, root)).toBe('cli/a.ts changed');

    const again = fakeBuild().manifest;
    writeFileSync(join(root, 'cli', 'absent.ts'), '');

    expect(staleness(again, root)).toBe('cli/absent.ts changed');
  });

  it('rejects a build whose output was removed', () => {
    const { root, manifest } = fakeBuild();
    rmSync(join(root, 'dist'), { recursive: true });

    expect(staleness(manifest, root)).toBe('build removed');
  });

  it('rejects a build marked as read while a source changed (-1 never matches a time)', () => {
    const { root, manifest } = fakeBuild();

    expect(staleness({ ...manifest, inputs: { ...manifest.inputs, 'cli/a.ts': -1 } }, root)).toBe(
      'cli/a.ts changed',
    );
  });
});

describe('one builder at a time', () => {
  /** A stale fake build whose "build" writes the manifest that makes it current, counting builds. */
  function fakeBuilder() {
    const { root, manifest } = fakeBuild();
    const paths = buildPaths(root);
    mkdirSync(paths.dir, { recursive: true });
    let builds = 0;
    const work = async () => {
      builds++;
      await new Promise((r) => setTimeout(r, 100));
      writeFileSync(paths.manifest, JSON.stringify(manifest));
    };
    return { root, paths, work, builds: () => builds };
  }

  it('builds once when several start at once, and releases the lock', async () => {
    const { root, paths, work, builds } = fakeBuilder();

    await Promise.all([withBuildLock(root, work), withBuildLock(root, work), withBuildLock(root, work)]);

    expect(builds()).toBe(1);
    expect(staleness(readManifest(root), root)).toBeUndefined();
    expect(existsSync(paths.lock)).toBe(false);
  });

  it('takes over the lock of a builder that died', async () => {
    const { root, paths, work, builds } = fakeBuilder();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(paths.lock, String(dead));

    await withBuildLock(root, work);

    expect(builds()).toBe(1);
    expect(existsSync(paths.lock)).toBe(false);
  });

  it('waits for a live builder and uses its build', async () => {
    const { root, paths, work, builds } = fakeBuilder();
    writeFileSync(paths.lock, String(process.pid)); // a builder that is alive: this process
    let done = false;
    const waiting = withBuildLock(root, work).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 300));

    expect(done).toBe(false);

    // The live builder finishes: its manifest, then its lock released.
    expect(readManifest(root)).toBeUndefined();
    await work();
    rmSync(paths.lock);
    await waiting;

    expect(builds()).toBe(1); // that one: the waiter did not build again
  });
});

describe('the build of this checkout', () => {
  it('records the sources it read (not node_modules), and the install, and is current after', async () => {
    const manifest = await buildCli(ROOT);

    expect(Object.keys(manifest.inputs)).toEqual(
      expect.arrayContaining(['bin/compose.ts', 'cli/program.ts', 'cli/commands/run.ts', 'package.json']),
    );
    expect(Object.keys(manifest.inputs).filter((f) => f.startsWith('node_modules/'))).toEqual([
      'node_modules/.package-lock.json',
    ]);
    // local/ and agent/ run from their sources, loaded only for their own commands.
    expect(Object.keys(manifest.inputs).filter((f) => /^(local|agent)\//.test(f))).toEqual([]);
    expect(readManifest(ROOT)).toEqual(manifest);
    expect(staleness(manifest, ROOT)).toBeUndefined();
    expect(await builtCli(ROOT)).toMatch(new RegExp(`/${manifest.entry}$`));
    // zod in English only: its other locales are not parsed at every start.
    const built = readdirSync(join(ROOT, dirname(manifest.entry))).filter((f) => f.endsWith('.js'));
    const code = built.map((f) => readFileSync(join(ROOT, dirname(manifest.entry), f), 'utf8')).join('\n');
    expect(code).toContain('node_modules/zod/v4/locales/en.js');
    expect(code).not.toContain('node_modules/zod/v4/locales/fr.js');
    // esbuild's service process does not outlive the build (a `drover agent` that built keeps no child).
    await expect.poll(() => esbuildChildren(), { timeout: 10_000 }).toEqual([]);
  }, 120_000);

  it('runs from the sources when told not to build, with the same behaviour', () => {
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, [join(ROOT, 'bin', 'drover.js'), 'nosuchcommand'], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const built = run({});
    const sources = run({ DROVER_CLI_BUILD: '0' });

    expect(sources.status).toBe(4);
    expect(sources.stderr).toBe(built.stderr);
    expect(built.status).toBe(4);
  }, 120_000);
});
