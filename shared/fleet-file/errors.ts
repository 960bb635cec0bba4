/** Errors of the fleet file: every problem found, each with its file, line and column. */

/** Where in the fleet file a problem is (1-based line and column). */
export interface FilePosition {
  line: number;
  column: number;
}

export interface FleetFileProblem extends Partial<FilePosition> {
  /** The setting the problem is about, as a dotted path (`12_04-bee.autoscale.node_max`). */
  path: string;
  message: string;
}

/** One line per problem: `fleet.yaml:12:5: 12_04-bee.run_list[2]: …`. */
export function formatProblem(file: string, problem: FleetFileProblem): string {
  const where = problem.line === undefined ? file : `${file}:${problem.line}:${problem.column ?? 1}`;
  return `${where}: ${problem.path ? `${problem.path}: ` : ''}${problem.message}`;
}

/** The fleet file could not be used; `problems` lists everything wrong, in file order. */
export class FleetFileError extends Error {
  override readonly name = 'FleetFileError';
  constructor(
    readonly file: string,
    readonly problems: readonly FleetFileProblem[],
    options?: ErrorOptions,
  ) {
    super(
      problems.length === 1
        ? formatProblem(file, problems[0]!)
        : `${file}: ${problems.length} problems\n${problems.map((p) => `  ${formatProblem(file, p)}`).join('\n')}`,
      options,
    );
  }
}

/** The fleet file names a group that is not in it. */
export class UnknownGroupError extends Error {
  override readonly name = 'UnknownGroupError';
  constructor(
    readonly group: string,
    readonly known: readonly string[],
  ) {
    super(
      known.length === 0
        ? `no group "${group}": the fleet file defines no groups`
        : `no group "${group}" in the fleet file (groups: ${known.join(', ')})`,
    );
  }
}
