/**
 * The deployed artifacts as the local runtime's functions: the zip files `sls package` builds (one
 * per function, esbuild bundles), unpacked into a directory of their own, so local mode can run
 * exactly what is deployed rather than the TypeScript sources. The AWS SDK is not in the bundles
 * (the nodejs22.x runtime provides it); here a `node_modules/@aws-sdk` link to the project's
 * stands in for the runtime's.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export class BundleError extends Error {
  override name = 'BundleError';
}

/** The unpacked bundles of one local stack; `remove` deletes them. */
export class LambdaBundles {
  readonly #dir: string;

  private constructor(
    private readonly artifacts: string,
    projectRoot: string,
  ) {
    this.#dir = mkdtempSync(join(tmpdir(), 'drover-bundles-'));
    mkdirSync(join(this.#dir, 'node_modules'));
    symlinkSync(
      resolve(projectRoot, 'node_modules', '@aws-sdk'),
      join(this.#dir, 'node_modules', '@aws-sdk'),
    );
  }

  /** Bundles from `artifacts` (the directory `sls package --package <dir>` wrote). */
  static open(artifacts: string, projectRoot: string): LambdaBundles {
    if (!existsSync(artifacts))
      throw new BundleError(`no packaged functions in ${artifacts}: run sls package first`);
    return new LambdaBundles(artifacts, projectRoot);
  }

  /**
   * The module file of `handlerFile` (e.g. `functions/plan`) in function `name`'s bundle,
   * unpacked on first use.
   */
  moduleOf(name: string, handlerFile: string): string {
    const target = join(this.#dir, name);
    if (!existsSync(target)) {
      const zip = join(this.artifacts, `${name}.zip`);
      if (!existsSync(zip)) throw new BundleError(`function ${name} has no bundle ${zip}`);
      mkdirSync(target);
      execFileSync('unzip', ['-q', zip, '-d', target]);
    }
    const module = join(target, `${handlerFile}.mjs`);
    if (!existsSync(module)) throw new BundleError(`bundle of ${name} has no ${handlerFile}.mjs`);
    return module;
  }

  remove(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
