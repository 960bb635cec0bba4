#!/usr/bin/env node
// The `drover` command: the built CLI (dist/cli, rebuilt here whenever a source file changed, see
// cli-build.js), or its TypeScript sources through tsx's loader when it cannot be built. Either
// way editing the code needs no build step; the Lambda bundles are built by serverless-esbuild.
import module from 'node:module';
import { join } from 'node:path';
import { ROOT, builtCli } from './cli-build.js';

// The SDK's Node 20 end-of-support notice is known (DESIGN.md section 11); keep it off operators' screens.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Stack traces of the built CLI name the TypeScript sources; only with --debug (maps cost start-up time).
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);

// Node 22.1+ keeps V8's compiled code of the modules on disk: later starts skip most of the parsing.
module.enableCompileCache?.(join(ROOT, 'dist', 'compile-cache'));

let entry = await builtCli();
if (entry === undefined) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('./compose.ts', import.meta.url).href;
}
const { main } = await import(entry);
await main(process.argv);
