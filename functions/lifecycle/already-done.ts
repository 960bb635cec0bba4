/**
 * The AWS answers that mean "already done" for the calls the lifecycle flow repeats: a
 * CompleteLifecycleAction or RecordLifecycleActionHeartbeat on an action that ended, and a
 * DeleteQueue on an inbox that is gone. Each is recorded as such, never treated as a failure.
 */
import { DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { isMissingQueue } from '#shared/aws.ts';

/**
 * Auto Scaling's answer when no action is waiting for that token or instance: it was completed
 * already (by drover or anyone else), Auto Scaling ended it at its timeout, or it never existed.
 * `ValidationError` with "No active Lifecycle Action found with token <t>" (or "with instance ID
 * <i>"), the same for CompleteLifecycleAction and RecordLifecycleActionHeartbeat.
 */
export function isNoActiveAction(error: unknown): error is Error {
  return (
    error instanceof Error &&
    error.name === 'ValidationError' &&
    error.message.startsWith('No active Lifecycle Action found')
  );
}

/** Deletes an inbox; `gone` when it was deleted already (a repeated step, a state change before). */
export async function deleteInbox(sqs: SQSClient, url: string): Promise<'deleted' | 'gone'> {
  try {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    return 'deleted';
  } catch (error: unknown) {
    if (isMissingQueue(error)) return 'gone';
    throw error;
  }
}
