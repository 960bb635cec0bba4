/** A fresh temporary directory for every test of a file, removed after each, and files written in it. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/** Call at the top of a test file: registers the set-up and clean-up hooks. */
export function tempDirPerTest(prefix: string): {
  path: () => string;
  /** Writes `content` to `name` in the current test's directory; returns the file's path. */
  file: (name: string, content: string) => string;
} {
  let dir: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const path = (): string => {
    if (!dir) throw new Error('tempDirPerTest: no directory outside a test');
    return dir;
  };
  return {
    path,
    file(name, content) {
      const filePath = join(path(), name);
      writeFileSync(filePath, content);
      return filePath;
    },
  };
}
