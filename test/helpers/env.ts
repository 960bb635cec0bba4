/**
 * The one test environment: dummy credentials, a region, and no EC2 metadata lookups, so nothing a
 * test starts can find real credentials or reach AWS (endpoints are the local stack's, on
 * 127.0.0.1, given per process). vitest.config.ts gives it to the test processes; children get it
 * from `testEnv`, or, where they must start from an empty environment, from `AWS_TEST_ENV`.
 */

export const AWS_TEST_ENV = {
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
} as const;

/**
 * The environment of a child process: this one's, without colours, with `AWS_TEST_ENV`, then
 * `extra` (where `undefined` removes a variable).
 */
export function testEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...AWS_TEST_ENV };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}
