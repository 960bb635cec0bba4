/**
 * Output larger than a result can carry: an agent whose cap is above what one SQS message and one
 * DynamoDB item hold still delivers its result, cut further, head and tail kept, counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { stopAll } from '../helpers/processes.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';
import { startFleet } from '../helpers/fleet.ts';
import { RESULT_OUTPUT_BUDGET_BYTES } from '#shared/output-fit.ts';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
  await startFleet(t, [{ identity: 'bulk-1', facts: { role: 'bulk' }, args: ['--output-cap', '4000000'] }]);
});

afterAll(async () => {
  await stopCliProcesses();
  await stopAll();
  await t?.stop();
});

describe('drover run with an output cap above what a result carries', () => {
  it('gets the result of 3 MB of stdout and 500 KB of control characters on stderr', async () => {
    const command =
      "echo THE-START; head -c 3000000 /dev/zero | tr '\\0' x; echo; echo THE-END; " +
      "head -c 500000 /dev/zero | tr '\\0' '\\1' >&2; echo STDERR-END >&2";
    const r = await droverCli(t.home, ['run', command, '-F', 'role=bulk', '--json']);
    const host = (JSON.parse(r.stdout) as { hosts: Record<string, unknown>[] }).hosts[0]!;
    const stdout = String(host.stdout);
    const stderr = String(host.stderr);

    expect(r.code).toBe(0);
    expect(host).toMatchObject({
      identity: 'bulk-1',
      status: 'succeeded',
      exitCode: 0,
      stdoutBytes: 10 + 3_000_000 + 1 + 8,
      stdoutTruncated: true,
      stderrBytes: 500_000 + 11,
      stderrTruncated: true,
    });
    expect(stdout.startsWith('THE-START\nxxx')).toBe(true);
    expect(stdout.endsWith('xxx\nTHE-END\n')).toBe(true);
    expect(stderr.endsWith('\u0001\u0001STDERR-END\n')).toBe(true);
    const asJson = (text: string) => Buffer.byteLength(JSON.stringify(text)) - 2;
    expect(asJson(stdout) + asJson(stderr)).toBeLessThanOrEqual(RESULT_OUTPUT_BUDGET_BYTES);
    // Each stream had half: neither was cut to nothing.
    expect(asJson(stdout)).toBeGreaterThan(RESULT_OUTPUT_BUDGET_BYTES / 2 - 1_000);
    expect(asJson(stderr)).toBeGreaterThan(RESULT_OUTPUT_BUDGET_BYTES / 2 - 1_000);
  });
});
