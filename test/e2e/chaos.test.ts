/**
 * The fault suite's short form, as `npm run chaos -- --bounded` runs it: an agent paused past its
 * window, every message delivered three times, concurrent watched runs. The real command, the
 * real local stack and agent processes; it must exit 0 with nothing lost, run twice, run after
 * "no response" or counted wrong.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/processes.ts';

interface ChaosRow {
  scenario: string;
  runs: number;
  hosts: number;
  expected: number;
  recorded: number;
  lost: number;
  executions: number;
  doubleExecutions: number;
  lateAfterNoResponse: number;
  wrongCounts: number;
  notes: string[];
}

function chaos(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'chaos.js'), ...args], { env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), 170_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run chaos -- --bounded', () => {
  it('loses nothing, runs nothing twice or after "no response", and counts right', async () => {
    const out = await chaos(['--bounded', '--json']);

    const { rows, errors } = JSON.parse(out.stdout) as { rows: ChaosRow[]; errors: number };
    expect(errors, out.stderr).toBe(0);
    expect(rows.map((r) => r.scenario)).toEqual([
      'agent paused past its window (-t 2 --dt 1)',
      'every message delivered 3 times',
      '5 concurrent runs on 10 agents',
    ]);
    for (const row of rows) {
      expect(row, row.notes.join('\n')).toMatchObject({
        lost: 0,
        doubleExecutions: 0,
        lateAfterNoResponse: 0,
        wrongCounts: 0,
      });
      expect(row.recorded).toBe(row.expected);
    }
    // The paused host ran nothing; every other host ran its command once.
    expect(rows[0]).toMatchObject({ hosts: 2, executions: 1 });
    expect(rows[1]).toMatchObject({ hosts: 3, executions: 3 });
    expect(rows[2]).toMatchObject({ runs: 5, hosts: 50, executions: 50 });
    expect(out.code).toBe(0);
  }, 180_000);
});
