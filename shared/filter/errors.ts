/**
 * The one error the filter language throws: a syntax problem located at a column of the text
 * the operator typed, so the CLI can point at it like a compiler does.
 */

/** The command-line flag a filter part came from; also names the part in agent-side errors. */
export type FilterFlag = '-W' | '-F' | '-C' | '-I' | '-S';

/** What went wrong, where: assembled into the message by {@link FilterSyntaxError}. */
export interface FilterSyntaxProblem {
  flag: FilterFlag;
  /** The text being parsed (one filter item or the whole `-S` expression). */
  input: string;
  /** 1-based column within `input`; `input.length + 1` means "at the end". */
  column: number;
  /** What was expected or is wrong, e.g. `expected a value after "="`. */
  problem: string;
  /** What was found instead, or what to do, e.g. `found end of input`. */
  detail?: string;
  cause?: unknown;
}

/**
 * A filter part that does not parse. The message is a sentence for the operator that names the
 * flag, the problem and the column, e.g. `-S: expected a fact, class or "(" at column 17, found
 * end of input`; {@link formatFilterError} adds the input and a caret under the column.
 */
export class FilterSyntaxError extends Error {
  override name = 'FilterSyntaxError';
  readonly flag: FilterFlag;
  /** Which flag and expression, e.g. `-S "role=web and ("`. */
  readonly source: string;
  readonly input: string;
  readonly column: number;

  constructor(problem: FilterSyntaxProblem) {
    const detail = problem.detail === undefined ? '' : `, ${problem.detail}`;
    super(`${problem.flag}: ${problem.problem} at column ${problem.column}${detail}`, {
      cause: problem.cause,
    });
    this.flag = problem.flag;
    this.source = `${problem.flag} ${JSON.stringify(problem.input)}`;
    this.input = problem.input;
    this.column = problem.column;
  }
}

/**
 * Renders a syntax error for a terminal: the message, then the input on its own line, then a
 * caret under the offending column. Tabs are kept in the padding so the caret lines up.
 */
export function formatFilterError(error: FilterSyntaxError): string {
  const shown = error.input.replace(/[\r\n]/g, ' ');
  const padding = shown.slice(0, error.column - 1).replace(/[^\t]/g, ' ');
  return `${error.message}\n  ${shown}\n  ${padding}^`;
}
