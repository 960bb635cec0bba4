/**
 * Runs `sls package` the way CI does: with dummy credentials, no AWS profile, and a preloaded
 * guard that refuses (and records) any connection off the machine; into a temporary directory
 * whose CloudFormation template the packaging tests read.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { CfnTemplate } from './cloudformation.ts';
import { AWS_TEST_ENV } from './env.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** osls's own bin: `npx` would start npm first, which reads its config and may reach the registry. */
const SLS_BIN = join(REPO_ROOT, 'node_modules/osls/bin/serverless.js');
const OFFLINE_GUARD = join(REPO_ROOT, 'test/helpers/offline-guard.cjs');

const execFileAsync = promisify(execFile);

export interface PackagedService {
  /** `cloudformation-template-update-stack.json`, the template `sls deploy` would apply. */
  template: CfnTemplate;
  /** The zip files written (one per function, as functions are packaged individually). */
  artifacts: string[];
  /** The directory they were written to (`--package`). */
  dir: string;
  durationMs: number;
  /** Connections the guard refused, as `<pid> <host>:<port>` lines. */
  networkAttempts: string[];
  /**
   * What the packaging left in the temporary directory it was given (TMPDIR), but for tsx's
   * compile cache (`tsx-<uid>`, reused across runs on purpose; shared/deploy-params.cjs uses tsx).
   */
  tempLeftovers: string[];
  /** Deletes the temporary directory. */
  remove(): void;
}

export class PackagingFailed extends Error {
  override name = 'PackagingFailed';
}

/**
 * The environment of the packaging process, built from scratch so that no profile, real key or
 * endpoint of the caller leaks in. osls has no telemetry, notification or update check (its
 * source reads none of the SLS_TELEMETRY / SLS_NOTIFICATIONS variables); CI=true keeps it from
 * prompting and SLS_DEPRECATION_DISABLE silences deprecation notices.
 */
function offlineEnv(home: string, guardLog: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    CI: 'true',
    ...AWS_TEST_ENV,
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    SLS_DEPRECATION_DISABLE: '*',
    NODE_OPTIONS: `--require ${OFFLINE_GUARD}`,
    DROVER_OFFLINE_GUARD_LOG: guardLog,
    // Whatever the packaging leaves in the temp dir stays under `home`, which the caller removes
    // (and the tests check it is nothing).
    TMPDIR: join(home, 'tmp'),
  };
}

/**
 * Packages the service for `stage`, with `args` added to the command line (`--param=…`); throws
 * PackagingFailed with the command's output.
 */
export async function packageService(stage: string, args: readonly string[] = []): Promise<PackagedService> {
  const root = mkdtempSync(join(tmpdir(), 'drover-sls-package-'));
  const out = join(root, 'package');
  const guardLog = join(root, 'network-attempts.log');
  const remove = () => rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'tmp'));

  const started = performance.now();
  try {
    await execFileAsync(process.execPath, [SLS_BIN, 'package', '--stage', stage, '--package', out, ...args], {
      cwd: REPO_ROOT,
      env: offlineEnv(root, guardLog),
      timeout: 230_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error: unknown) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    const attempts = existsSync(guardLog) ? `\nnetwork attempts:\n${readFileSync(guardLog, 'utf8')}` : '';
    remove();
    throw new PackagingFailed(`sls package --stage ${stage} failed:\n${stdout}\n${stderr}${attempts}`, {
      cause: error,
    });
  }
  const durationMs = performance.now() - started;

  return {
    template: JSON.parse(
      readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as CfnTemplate,
    artifacts: readdirSync(out).filter((file) => file.endsWith('.zip')),
    dir: out,
    durationMs,
    networkAttempts: existsSync(guardLog) ? readFileSync(guardLog, 'utf8').trim().split('\n') : [],
    tempLeftovers: readdirSync(join(root, 'tmp')).filter((name) => !/^tsx-\d+$/.test(name)),
    remove,
  };
}
