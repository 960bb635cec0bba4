/**
 * The progress bar of a run (hosts answered / expected), drawn on stderr with cli-progress. Host
 * blocks go to stdout on the same terminal, so each one is written with the bar line cleared first
 * and the bar redrawn below it.
 */
import cliProgress from 'cli-progress';

export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): boolean;
}

export class HostProgress {
  #bar: cliProgress.SingleBar | undefined;
  #stopped = false;

  /**
   * @param stream where the bar goes (stderr), or undefined for no bar at all.
   * @param forced draw it even when `stream` is not a terminal (one line per update).
   */
  constructor(
    private readonly stream: ProgressStream | undefined,
    private readonly forced = false,
  ) {}

  update(answered: number, expected: number): void {
    if (!this.stream || this.#stopped || expected === 0) return;
    if (!this.#bar) {
      this.#bar = new cliProgress.SingleBar(
        {
          stream: this.stream as NodeJS.WritableStream,
          format: '{bar} {value}/{total} hosts answered | {duration}s',
          barsize: 30,
          clearOnComplete: true,
          // Long output lines must wrap while the bar is shown.
          linewrap: true,
          // Redraw after every block written above the bar, even when the count did not change.
          forceRedraw: true,
          noTTYOutput: this.forced,
          notTTYSchedule: 1000,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#bar.start(expected, answered);
      return;
    }
    this.#bar.setTotal(expected);
    this.#bar.update(answered);
  }

  /** Writes something to the terminal above the bar. */
  above(write: () => void): void {
    if (!this.#bar || !this.stream?.isTTY) return write();
    this.stream.write('\r\x1b[K');
    write();
    this.#bar.render();
  }

  /** Removes the bar; nothing is drawn afterwards. */
  stop(): void {
    this.#stopped = true;
    if (!this.#bar) return;
    // The bar restores the cursor position saved at start; save the current one so that jump
    // lands on the bar's line, below everything written since.
    if (this.stream?.isTTY) this.stream.write('\x1b7');
    this.#bar.stop();
    this.#bar = undefined;
  }
}
