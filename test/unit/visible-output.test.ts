/**
 * A host's output and host-chosen names cannot drive the operator's terminal: text output shows
 * control characters as escapes; JSON output keeps the exact bytes.
 */
import { describe, expect, it } from 'vitest';
import { hostBlock, summaryText } from '#cli/output/text.ts';
import { hostJson } from '#cli/output/json.ts';
import { pingLine } from '#cli/ping-report.ts';
import { nodeRunItem, runSummary } from '../helpers/factories.ts';

const plain = { color: false };
const CLEAR_SCREEN = '\u001b[2J\u001b[H';
const hostile = nodeRunItem({
  identity: `web-1${CLEAR_SCREEN}`,
  stdout: { text: `ok\r\u001b]0;pwned\u0007line 2\n\tindented\n`, bytes: 30, truncated: false },
  stderr: { text: 'warn\u202egnp.exe\n', bytes: 14, truncated: false },
});

/** Every character a terminal would act on, apart from newline and tab. */
// eslint-disable-next-line no-control-regex -- looking for control characters is the test
const ACTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('text output of host-controlled strings', () => {
  it('shows escape sequences in output and identities as text, keeping newlines and tabs', () => {
    const block = hostBlock(hostile, plain)!;
    expect(block).not.toMatch(ACTIVE);
    expect(block).toContain('>>>>>> web-1\\x1b[2J\\x1b[H exit code: (0):');
    expect(block).toContain('ok\\r\\x1b]0;pwned\\x07line 2\n\tindented');
    expect(block).toContain('warn\\u202egnp.exe');
  });

  it('escapes identities in the summary lists, and ping lines', () => {
    const silent = nodeRunItem({
      identity: `db-1\n${CLEAR_SCREEN}`,
      status: 'no_response',
      resultAt: undefined,
    });
    const summary = summaryText(runSummary({ noResponse: 1 }), [silent], 10, plain);
    expect(summary).not.toMatch(ACTIVE);
    expect(summary).toContain('db-1\\n\\x1b[2J');
    expect(pingLine({ identity: `a\u001b[31m`, nodeId: 'a', rttMs: 3 })).toMatch(/^a\\x1b\[31m/);
  });

  it('keeps the exact bytes in JSON output', () => {
    const json = JSON.parse(JSON.stringify(hostJson(hostile))) as { identity: string; stdout: string };
    expect(json.identity).toBe(hostile.identity);
    expect(json.stdout).toBe(hostile.stdout!.text);
  });
});
