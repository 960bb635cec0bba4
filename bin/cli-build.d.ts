/** Types of cli-build.js (plain JavaScript: it runs before TypeScript can be loaded). */
export const ROOT: string;
export interface BuildManifest {
  root: string;
  entry: string;
  built: string;
  inputs: Record<string, number | null>;
}
export function buildPaths(root?: string): { dir: string; manifest: string; lock: string };
export function staleness(manifest: unknown, root?: string): string | undefined;
export function readManifest(root?: string): BuildManifest | undefined;
export function buildCli(root?: string): Promise<BuildManifest>;
export function builtCli(root?: string): Promise<string | undefined>;
export function withBuildLock(root: string, work: () => Promise<unknown>): Promise<void>;
