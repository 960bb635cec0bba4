/**
 * What EventBridge Scheduler checks on CreateSchedule, UpdateSchedule and ListSchedules, with its
 * error names, so the local scheduler refuses what AWS refuses. Shapes and limits are those of the
 * Scheduler API model (scheduler-2021-06-30); expressions and time zones are checked by the same
 * shared code the CLI uses.
 */
import {
  InvalidScheduleExpression,
  MAX_EXPRESSION_LENGTH,
  checkTimeZone,
  parseScheduleExpression,
  type ScheduleExpression,
} from '#shared/schedule/expression.ts';
import { SCHEDULE_NAME_PATTERN } from '#shared/schedule/names.ts';

/** An API error; `type` is what the SDK maps to an exception class (x-amzn-ErrorType). */
export class SchedulerApiError extends Error {
  constructor(
    readonly type:
      | 'ValidationException'
      | 'ConflictException'
      | 'ResourceNotFoundException'
      | 'ServiceQuotaExceededException'
      | 'AccessDeniedException'
      | 'InternalServerException',
    message: string,
  ) {
    super(message);
    this.name = type;
  }

  get status(): number {
    const statuses: Record<string, number> = {
      ValidationException: 400,
      ConflictException: 409,
      ResourceNotFoundException: 404,
      ServiceQuotaExceededException: 402,
      AccessDeniedException: 403,
    };
    return statuses[this.type] ?? 500;
  }
}

export interface ScheduleInput {
  Name: string;
  GroupName?: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone?: string;
  Description?: string;
  State?: 'ENABLED' | 'DISABLED';
  FlexibleTimeWindow: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number };
  Target: {
    Arn: string;
    RoleArn: string;
    Input?: string;
    RetryPolicy?: { MaximumEventAgeInSeconds?: number; MaximumRetryAttempts?: number };
  };
  StartDate?: number;
  EndDate?: number;
  ActionAfterCompletion?: 'NONE' | 'DELETE';
  ClientToken?: string;
}

/**
 * Largest target input: the Step Functions target hands it to StartExecution, whose input is at
 * most 256 KiB (the Scheduler quotas list 256 KB for a target's payload too).
 */
export const MAX_TARGET_INPUT_BYTES = 262_144;

const ROLE_ARN = /^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const CLIENT_TOKEN = /^[a-zA-Z0-9-_]+$/;

const invalid = (message: string) => new SchedulerApiError('ValidationException', message);

function checkRange(name: string, value: unknown, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(
      `1 validation error detected: Value at '${name}' failed to satisfy constraint: Member must have value between ${min} and ${max}`,
    );
  }
}

function checkName(field: string, value: unknown, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'string' || !SCHEDULE_NAME_PATTERN.test(value)) {
    throw invalid(
      `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z-_.]+$ and have length between 1 and 64`,
    );
  }
}

function checkTarget(target: ScheduleInput['Target'] | undefined): void {
  if (!target || typeof target.Arn !== 'string' || target.Arn.length < 1 || target.Arn.length > 1600) {
    throw invalid(
      "1 validation error detected: Value at 'target.arn' failed to satisfy constraint: Member must not be null and have length between 1 and 1600",
    );
  }
  if (typeof target.RoleArn !== 'string' || !ROLE_ARN.test(target.RoleArn) || target.RoleArn.length > 1600) {
    throw invalid(
      `1 validation error detected: Value '${String(target.RoleArn)}' at 'target.roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ${ROLE_ARN.source}`,
    );
  }
  if (target.Input !== undefined) {
    if (typeof target.Input !== 'string' || target.Input.length < 1) {
      throw invalid(
        "1 validation error detected: Value at 'target.input' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    if (Buffer.byteLength(target.Input) > MAX_TARGET_INPUT_BYTES) {
      throw invalid(
        `Target input is ${Buffer.byteLength(target.Input)} bytes, over the ${MAX_TARGET_INPUT_BYTES} bytes allowed.`,
      );
    }
    if (target.Arn.includes(':states:')) {
      try {
        JSON.parse(target.Input);
      } catch {
        throw invalid(
          'Invalid input for target. Input must be a well-formed JSON for a Step Functions target.',
        );
      }
    }
  }
  checkRange(
    'target.retryPolicy.maximumEventAgeInSeconds',
    target.RetryPolicy?.MaximumEventAgeInSeconds,
    60,
    86_400,
  );
  checkRange('target.retryPolicy.maximumRetryAttempts', target.RetryPolicy?.MaximumRetryAttempts, 0, 185);
}

function checkWindow(window: ScheduleInput['FlexibleTimeWindow'] | undefined): void {
  if (!window || (window.Mode !== 'OFF' && window.Mode !== 'FLEXIBLE')) {
    throw invalid(
      "1 validation error detected: Value at 'flexibleTimeWindow.mode' failed to satisfy constraint: Member must satisfy enum value set: [OFF, FLEXIBLE]",
    );
  }
  if (window.Mode === 'FLEXIBLE' && window.MaximumWindowInMinutes === undefined) {
    throw invalid('MaximumWindowInMinutes must be provided when FlexibleTimeWindow mode is FLEXIBLE.');
  }
  if (window.Mode === 'OFF' && window.MaximumWindowInMinutes !== undefined) {
    throw invalid('MaximumWindowInMinutes must not be provided when FlexibleTimeWindow mode is OFF.');
  }
  checkRange('flexibleTimeWindow.maximumWindowInMinutes', window.MaximumWindowInMinutes, 1, 1440);
}

/** Checks a CreateSchedule/UpdateSchedule request; returns its parsed expression. */
export function checkScheduleInput(input: ScheduleInput): ScheduleExpression {
  checkName('name', input.Name, true);
  checkName('groupName', input.GroupName, false);
  if (
    input.Description !== undefined &&
    (typeof input.Description !== 'string' || input.Description.length > 512)
  ) {
    throw invalid(
      "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 512",
    );
  }
  if (input.State !== undefined && input.State !== 'ENABLED' && input.State !== 'DISABLED') {
    throw invalid(
      "1 validation error detected: Value at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]",
    );
  }
  if (
    input.ActionAfterCompletion !== undefined &&
    !['NONE', 'DELETE'].includes(input.ActionAfterCompletion)
  ) {
    throw invalid(
      "1 validation error detected: Value at 'actionAfterCompletion' failed to satisfy constraint: Member must satisfy enum value set: [NONE, DELETE]",
    );
  }
  if (
    input.ClientToken !== undefined &&
    (!CLIENT_TOKEN.test(input.ClientToken) || input.ClientToken.length > 64)
  ) {
    throw invalid(
      "1 validation error detected: Value at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9-_]+$",
    );
  }
  checkWindow(input.FlexibleTimeWindow);
  checkTarget(input.Target);
  if (input.StartDate !== undefined && input.EndDate !== undefined && input.EndDate <= input.StartDate) {
    throw invalid('The EndDate must be after the StartDate.');
  }
  if (
    typeof input.ScheduleExpression !== 'string' ||
    input.ScheduleExpression.length > MAX_EXPRESSION_LENGTH
  ) {
    throw invalid(
      `1 validation error detected: Value at 'scheduleExpression' failed to satisfy constraint: Member must have length between 1 and ${MAX_EXPRESSION_LENGTH}`,
    );
  }
  try {
    if (input.ScheduleExpressionTimezone !== undefined) checkTimeZone(input.ScheduleExpressionTimezone);
    return parseScheduleExpression(input.ScheduleExpression);
  } catch (error: unknown) {
    if (error instanceof InvalidScheduleExpression)
      throw invalid(`Invalid Schedule Expression ${input.ScheduleExpression}. ${error.message}`);
    if (error instanceof Error && error.name === 'UnknownTimeZone')
      throw invalid(`Invalid Timezone ${input.ScheduleExpressionTimezone}.`);
    throw error;
  }
}

/** Checks ListSchedules' query; returns the page size and where the page starts. */
export function checkListInput(query: {
  ScheduleGroup?: string;
  NamePrefix?: string;
  State?: string;
  MaxResults?: string;
  NextToken?: string;
}) {
  checkName('groupName', query.ScheduleGroup, false);
  checkName('namePrefix', query.NamePrefix, false);
  if (query.State !== undefined && query.State !== 'ENABLED' && query.State !== 'DISABLED') {
    throw invalid(
      "1 validation error detected: Value at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]",
    );
  }
  const max = query.MaxResults === undefined ? 100 : Number(query.MaxResults);
  checkRange('maxResults', max, 1, 100);
  const start = query.NextToken === undefined ? 0 : Number(query.NextToken);
  if (!Number.isInteger(start) || start < 0) throw invalid('Invalid NextToken.');
  return { max, start };
}
