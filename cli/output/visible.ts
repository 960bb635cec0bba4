/**
 * Host output and host-chosen names (identities, facts, reasons) shown in a terminal with their
 * control characters made visible: an escape sequence in a host's output could otherwise move the
 * cursor, rewrite lines already printed, set the window title or hide text from the operator.
 * Only text output goes through here: `--json` and `--jsonl` keep the exact bytes (JSON escapes
 * control characters itself).
 */

/**
 * C0 controls, DEL and C1 controls, plus the Unicode format characters that reorder or hide text
 * (bidirectional overrides and isolates, zero-width characters, BOM).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * `text` with each control character replaced by its escape (`\x1b`, `\r`, `\u202e`). Newlines and
 * tabs stay as they are with `keep: 'lines'` (a command's output), and are escaped too with
 * `keep: 'none'` (a name on one line).
 */
export function visible(text: string, keep: 'lines' | 'none' = 'none'): string {
  return text.replace(CONTROL, (char) => {
    if (keep === 'lines' && (char === '\n' || char === '\t')) return char;
    if (char === '\n') return '\\n';
    if (char === '\r') return '\\r';
    if (char === '\t') return '\\t';
    const code = char.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
