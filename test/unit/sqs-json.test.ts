import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sqsJson } from '#shared/sqs-json.ts';
import { jsonSize } from '#shared/output-fit.ts';

/** The characters SQS accepts in a message body (its documentation's list, as a regular expression). */
const SQS_BODY = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

describe('sqsJson: JSON that SQS accepts as a message body', () => {
  it('escapes U+FFFE and U+FFFF, which JSON.stringify leaves as they are', () => {
    const reply = { stdout: 'a\uFFFEb\uFFFFc', exit: 0 };
    expect(SQS_BODY.test(JSON.stringify(reply))).toBe(false);
    const body = sqsJson(reply);
    expect(body).toBe('{"stdout":"a\\ufffeb\\uffffc","exit":0}');
    expect(SQS_BODY.test(body)).toBe(true);
    expect(JSON.parse(body)).toEqual(reply);
  });

  it('leaves every other body exactly as JSON.stringify writes it', () => {
    const value = { text: 'héllo \u0001 \uD83D\uDE00 \uFFFD', n: [1, 2] };
    expect(sqsJson(value)).toBe(JSON.stringify(value));
  });

  it('any string round-trips and the body is always one SQS accepts', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const body = sqsJson({ text });
        expect(SQS_BODY.test(body)).toBe(true);
        expect((JSON.parse(body) as { text: string }).text).toBe(text);
      }),
    );
  });

  it('output sizing counts the escaped form, six bytes for each noncharacter', () => {
    expect(jsonSize('\uFFFF\uFFFE')).toBe(12);
    expect(jsonSize('ab')).toBe(2);
  });
});
