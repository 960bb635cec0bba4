// The simulated fleet's worker thread (fleet-thread.ts): TypeScript compiled on load, as bin/bench.js does.
import { register } from 'tsx/esm/api';

register();
await import('./fleet-worker.ts');
