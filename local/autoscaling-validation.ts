/**
 * The Auto Scaling API model's constraints on the parameters that name a lifecycle action
 * (CompleteLifecycleAction, RecordLifecycleActionHeartbeat), checked before any lookup as AWS
 * does, with AWS's ValidationError text: a token is a UUID (exactly 36 characters), an instance
 * id at most 19, a hook name 1 to 255 of `[A-Za-z0-9\-_\/]`.
 */
import { AutoScalingApiError } from './autoscaling-xml.ts';

const HOOK_NAME = /^[A-Za-z0-9\-_/]+$/;

function invalid(value: string, member: string, constraint: string): AutoScalingApiError {
  return new AutoScalingApiError(
    'ValidationError',
    `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}

function checkLength(value: string, member: string, min: number, max: number): void {
  if (value.length < min)
    throw invalid(value, member, `Member must have length greater than or equal to ${min}`);
  if (value.length > max)
    throw invalid(value, member, `Member must have length less than or equal to ${max}`);
}

export function checkActionParameters(hookName: string, token?: string, instanceId?: string): void {
  checkLength(hookName, 'lifecycleHookName', 1, 255);
  if (!HOOK_NAME.test(hookName)) {
    throw invalid(
      hookName,
      'lifecycleHookName',
      'Member must satisfy regular expression pattern: [A-Za-z0-9\\-_\\/]+',
    );
  }
  if (token) checkLength(token, 'lifecycleActionToken', 36, 36);
  if (instanceId) checkLength(instanceId, 'instanceId', 1, 19);
}
