/**
 * What is deployed is what is tested: `sls package` builds the functions' bundles, the local
 * stack hosts those bundles (not the TypeScript sources), and a whole run goes through them with
 * real agent processes and the CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDocumentSchema } from '#cli/output/schemas.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { stopAll } from '../helpers/processes.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';
import { startFleet } from '../helpers/fleet.ts';
import { packageService, type PackagedService } from '../helpers/sls-package.ts';

let packaged: PackagedService | undefined;
let t: TestStack | undefined;

beforeAll(async () => {
  packaged = await packageService('ci');
  t = await startTestStack({ lambdaBundles: packaged.dir });
  await startFleet(t, [
    { identity: 'bundle-web-1', facts: { role: 'web' }, classes: [] },
    { identity: 'bundle-web-2', facts: { role: 'web' }, classes: [] },
  ]);
}, 300_000);

afterAll(async () => {
  await stopCliProcesses();
  await stopAll();
  await t?.stop();
  packaged?.remove();
});

describe('the packaged bundles on the local stack', () => {
  it('run a whole run: plan, dispatch, both waits, ingest, close, finish', async () => {
    const r = await droverCli(t!.home, [
      'run',
      'echo "bundled $DROVER_IDENTITY"; exit 0',
      '-F',
      'role=web',
      '--json',
    ]);

    expect(r.code).toBe(0);
    const doc = runDocumentSchema.parse(JSON.parse(r.stdout));
    expect(doc).toMatchObject({ status: 'succeeded', exitCode: 0, summary: { expected: 2, succeeded: 2 } });
    expect(doc.hosts.map((h) => h.stdout).sort()).toEqual([
      'bundled bundle-web-1\n',
      'bundled bundle-web-2\n',
    ]);
  });

  it('report a refused request as the deployed plan refuses it', async () => {
    const r = await droverCli(t!.home, ['run', 'true', '-S', 'role=web and (', '--json']);

    expect(r.code).toBe(4);
  });
});

describe('a local stack told to host bundles', () => {
  it('refuses to start when a function has no bundle, rather than fall back to the sources', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'drover-no-bundles-'));
    try {
      await expect(startTestStack({ lambdaBundles: empty })).rejects.toMatchObject({ name: 'BundleError' });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
