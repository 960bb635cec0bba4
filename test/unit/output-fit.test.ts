import { describe, expect, it } from 'vitest';
import {
  fitCapturedStreams,
  fitStreams,
  jsonSize,
  renderStream,
  RESULT_OUTPUT_BUDGET_BYTES,
  type StreamParts,
} from '#shared/output-fit.ts';

const whole = (text: string): StreamParts => ({
  head: text,
  tail: '',
  omitted: 0,
  bytes: Buffer.byteLength(text),
});
const MARKER = /\n…\[(\d+) bytes omitted\]…\n/;

/** What the marker of `text` says was omitted, and what surrounds it. */
function marked(text: string): { before: string; omitted: number; after: string } {
  const match = MARKER.exec(text);
  if (!match) throw new Error(`no omission marker in ${JSON.stringify(text.slice(0, 80))}…`);
  return {
    before: text.slice(0, match.index),
    omitted: Number(match[1]),
    after: text.slice(match.index + match[0].length),
  };
}

describe('fitStreams', () => {
  it('leaves streams that fit exactly as rendered', () => {
    const stdout: StreamParts = { head: 'abcd', tail: 'wxyz', omitted: 18, bytes: 26 };

    const fitted = fitStreams(stdout, whole('warning\n'), RESULT_OUTPUT_BUDGET_BYTES);

    expect(fitted).toEqual({
      stdout: renderStream(stdout),
      stderr: { text: 'warning\n', bytes: 8, truncated: false },
    });
  });

  it('cuts a stream kept whole in its middle, keeping both ends and counting what went', () => {
    const text = 'BEGIN' + 'x'.repeat(10_000) + 'END';

    const { stdout, stderr } = fitStreams(whole(text), whole(''), 1_000);

    expect(jsonSize(stdout.text) + jsonSize(stderr.text)).toBeLessThanOrEqual(1_000);
    expect(stdout).toMatchObject({ bytes: text.length, truncated: true });
    const { before, omitted, after } = marked(stdout.text);
    expect(before.startsWith('BEGIN')).toBe(true);
    expect(after.endsWith('END')).toBe(true);
    expect(before.length + omitted + after.length).toBe(text.length);
    expect(stdout.text.length).toBeGreaterThan(900);
  });

  it('adds what it cuts to what the cap already omitted', () => {
    const parts: StreamParts = {
      head: 'h'.repeat(5_000),
      tail: 't'.repeat(5_000),
      omitted: 90_000,
      bytes: 100_000,
    };

    const { stdout } = fitStreams(parts, whole(''), 2_000);

    const { before, omitted, after } = marked(stdout.text);
    expect(before).toMatch(/^h+$/);
    expect(after).toMatch(/^t+$/);
    expect(before.length + omitted + after.length).toBe(100_000);
  });

  it('counts JSON escapes: six bytes for a control character', () => {
    const text = '\u0001'.repeat(100_000);

    const { stdout } = fitStreams(whole(text), whole(''), 60_000);

    expect(jsonSize(stdout.text)).toBeLessThanOrEqual(60_000);
    expect(jsonSize(stdout.text)).toBeGreaterThan(59_000);
    expect(marked(stdout.text).omitted).toBeGreaterThan(90_000);
  });

  it('gives a small stream all it needs and the other one the rest', () => {
    const small = 'error: disk full\n';

    const { stdout, stderr } = fitStreams(whole('o'.repeat(50_000)), whole(small), 10_000);

    expect(stderr).toEqual({ text: small, bytes: small.length, truncated: false });
    expect(jsonSize(stdout.text)).toBeLessThanOrEqual(10_000 - small.length - 1);
    expect(jsonSize(stdout.text)).toBeGreaterThan(9_000);
  });

  it('splits the budget evenly when both streams are too large', () => {
    const { stdout, stderr } = fitStreams(whole('o'.repeat(50_000)), whole('e'.repeat(80_000)), 10_000);

    for (const stream of [stdout, stderr]) {
      expect(jsonSize(stream.text)).toBeLessThanOrEqual(5_000);
      expect(jsonSize(stream.text)).toBeGreaterThan(4_900);
    }
  });

  it('never splits a surrogate pair', () => {
    const text = '😀'.repeat(5_000);

    const { stdout } = fitStreams(whole(text), whole(''), 1_001);

    const { before, after } = marked(stdout.text);
    expect(before).toMatch(/^(😀)+$/u);
    expect(after).toMatch(/^(😀)+$/u);
    expect(jsonSize(stdout.text)).toBeLessThanOrEqual(1_001);
  });
});

describe('fitCapturedStreams', () => {
  it('returns received streams that fit untouched, a truncation flag included', () => {
    const stdout = { text: 'head\n…[5 bytes omitted]…\ntail', bytes: 13, truncated: true };
    const stderr = { text: '', bytes: 0, truncated: false };

    expect(fitCapturedStreams(stdout, stderr, RESULT_OUTPUT_BUDGET_BYTES)).toEqual({ stdout, stderr });
  });

  it('cuts received streams that do not fit, keeping both ends', () => {
    const text = 'A' + 'b'.repeat(400_000) + 'Z';

    const { stdout, stderr } = fitCapturedStreams(
      { text, bytes: text.length, truncated: false },
      { text: '', bytes: 0, truncated: false },
      RESULT_OUTPUT_BUDGET_BYTES,
    );

    expect(jsonSize(stdout.text) + jsonSize(stderr.text)).toBeLessThanOrEqual(RESULT_OUTPUT_BUDGET_BYTES);
    expect(stdout.truncated).toBe(true);
    expect(stdout.bytes).toBe(text.length);
    expect(stdout.text.startsWith('Abbb')).toBe(true);
    expect(stdout.text.endsWith('bbbZ')).toBe(true);
  });
});
