#!/usr/bin/env node
// `npm run bench`: end-to-end latency of runs on the embedded stack (see bench/README.md).
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('../bench/run-bench.ts');
