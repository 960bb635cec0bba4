// Entry of the command launcher (command-launcher.ts) when drover runs from its TypeScript sources.
// tsx's CommonJS hook compiles in this thread; its ESM loader would add a worker thread and ~30 MB
// to a process whose small size is the point.
require('tsx/cjs/api').register();
require('./launcher-main.ts');
