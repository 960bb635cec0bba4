/**
 * Regular expressions of the filter language, evaluated by RE2 (re2js): matching takes time
 * linear in the text, whatever the pattern. JavaScript's own engine backtracks, so a pattern
 * such as `/^(a+)+$/` against a 30-character fact would take seconds, in Plan over every host and
 * synchronously on every agent. RE2 refuses the constructs that need backtracking (lookaround,
 * backreferences) when the pattern is parsed, so they are a syntax error the operator sees.
 */
import { RE2JS } from 're2js';

/** A compiled filter regex: `test` finds the pattern anywhere in the text, like `RegExp#test`. */
export class FilterRegex {
  readonly #compiled: RE2JS;

  private constructor(
    readonly source: string,
    readonly ignoreCase: boolean,
  ) {
    this.#compiled = RE2JS.compile(source, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
  }

  /**
   * Compiles `source` with RE2 syntax (`flags` may be `i`).
   * @throws Error (an RE2JS exception) naming what in the pattern is invalid or unsupported.
   */
  static compile(source: string, flags: string): FilterRegex {
    return new FilterRegex(source, flags.includes('i'));
  }

  test(text: string): boolean {
    return this.#compiled.test(text);
  }

  toString(): string {
    return `/${this.source}/${this.ignoreCase ? 'i' : ''}`;
  }
}
