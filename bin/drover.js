#!/usr/bin/env node
// The `drover` command. TypeScript sources run through tsx's loader, so there is no build step
// between editing the code and running it (the Lambda bundles are built by serverless-esbuild).
import { register } from 'tsx/esm/api';

// The SDK's Node 20 end-of-support notice is known (DESIGN.md section 11); keep it off operators' screens.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('../cli/main.ts');
