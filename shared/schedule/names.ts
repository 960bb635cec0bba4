/**
 * Names of EventBridge Scheduler resources, as the Scheduler API constrains them, and the ones a
 * drover stage uses.
 */

/** A schedule's (and a schedule group's) name: 1-64 of `0-9a-zA-Z-_.` (Scheduler's `Name` shape). */
export const SCHEDULE_NAME_PATTERN = /^[0-9a-zA-Z\-_.]{1,64}$/;

/** The schedule group holding one stage's schedules: every schedule of a stage lives here. */
export const scheduleGroupOf = (stage: string): string => `drover-${stage}`;

/** Why `name` cannot be a schedule name, or undefined when it can. */
export function scheduleNameProblem(name: string): string | undefined {
  if (SCHEDULE_NAME_PATTERN.test(name)) return undefined;
  return name.length === 0 || name.length > 64
    ? `a schedule name is 1-64 characters (this one has ${name.length})`
    : 'a schedule name uses only letters, digits, "-", "_" and "."';
}
