#!/usr/bin/env node
// `npm run chaos`: the fault suite on the embedded stack with real agent processes (see README, "Reliability").
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('../chaos/main.ts');
