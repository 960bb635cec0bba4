/**
 * `npm run build:agent`: the agent as one JavaScript file, dist/drover-agent.mjs, that runs with a
 * plain `node` (22 or 24; 20.19 still runs it) and no node_modules: every dependency is bundled in.
 */
import { chmodSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
export const BUNDLE = join(ROOT, 'dist', 'drover-agent.mjs');

// Some bundled CommonJS dependencies call require() for Node built-ins; an ES module has none.
const BANNER = [
  '#!/usr/bin/env node',
  "import { createRequire as __droverCreateRequire } from 'node:module';",
  'const require = __droverCreateRequire(import.meta.url);',
].join('\n');

await build({
  absWorkingDir: ROOT,
  entryPoints: [join(ROOT, 'agent', 'standalone.ts')],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  // The maintained lines (22, 24); nothing in it needs more than Node 20 has, which still runs it.
  target: 'node22',
  format: 'esm',
  // The ES module builds of the SDK, so clients the agent never creates (shared/aws.ts) are shaken out.
  mainFields: ['module', 'main'],
  banner: { js: BANNER },
  legalComments: 'none',
  logLevel: 'warning',
});
chmodSync(BUNDLE, 0o755);
process.stdout.write(`${relative(ROOT, BUNDLE)}: ${Math.round(statSync(BUNDLE).size / 1024)} KiB\n`);
