#!/usr/bin/env node
// `npm run bench`: end-to-end latency of runs on the embedded stack (see bench/README.md).
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
// --simulate N: the simulated fleet (bench/simulate/, docs/scale.md); otherwise real agents.
if (process.argv.some((arg) => arg === '--simulate' || arg.startsWith('--simulate='))) {
  await import('../bench/simulate/main.ts');
} else {
  await import('../bench/run-bench.ts');
}
