/**
 * JSON as an SQS message body. SQS accepts only these characters in a body: #x9 | #xA | #xD |
 * #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF, and refuses anything else with
 * `InvalidMessageContents` (SendMessage: the whole call; SendMessageBatch: that entry).
 * `JSON.stringify` already escapes control characters and lone surrogates, but leaves the two
 * noncharacters U+FFFE and U+FFFF as they are: a command whose output holds one would have its
 * result refused by SQS and lost. Here they are escaped too (`\ufffe`, `\uffff`), which JSON
 * parses back to the same string, so readers need nothing new.
 *
 * No runtime imports: the command launcher loads shared/output-fit.ts, which sizes with this.
 */

const NONCHARACTERS = /[\uFFFE\uFFFF]/g;

function escapeNoncharacter(char: string): string {
  return char === '\uFFFE' ? '\\ufffe' : '\\uffff';
}

/** `JSON.stringify(value)` with every character SQS refuses escaped. */
export function sqsJson(value: unknown): string {
  const json = JSON.stringify(value);
  // Fast path: the two characters are rare; most bodies pass through without a replace.
  return json.includes('\uFFFE') || json.includes('\uFFFF')
    ? json.replace(NONCHARACTERS, escapeNoncharacter)
    : json;
}
