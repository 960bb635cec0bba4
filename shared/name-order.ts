/**
 * The order hosts are listed in by name (identity). Names made only of lowercase ASCII letters,
 * digits, `.` and `-` (hostnames, instance ids, the demo fleet's names) are compared character by
 * character: the order `localeCompare` gives them (its collation ranks `-` before `.` before digits
 * before letters, as their codes do), without building ICU's collator, which costs a command
 * 5–15 ms of CPU at its first comparison (`drover find`, the hosts of `drover run`). Any other name
 * is compared by `localeCompare`, as before.
 *
 * One difference, wanted: for plain names the order no longer follows the operator's locale (in a
 * Danish or Lithuanian one, `aa…` or `y…` names moved), so `--json` lists hosts the same way for
 * everyone.
 */
const PLAIN_NAME = /^[a-z0-9.-]*$/;

export function compareNames(a: string, b: string): number {
  if (PLAIN_NAME.test(a) && PLAIN_NAME.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return a.localeCompare(b);
}
