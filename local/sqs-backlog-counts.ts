/**
 * local-aws-sqs 2.0.2 counts a message received and not yet deleted (in flight) both in
 * `ApproximateNumberOfMessages` and in `ApproximateNumberOfMessagesNotVisible`. In SQS the first
 * is only the messages available for retrieval, and CloseBatch reads the two to tell whether
 * ingest still has replies to take or is working on some (functions/run/replies-backlog.ts), so the
 * emulator is corrected here: `ApproximateNumberOfMessages` = not delayed − not visible.
 *
 * Patched on the queue class (reached through the first queue of the emulator's service), once,
 * rather than in node_modules: the emulator's own dist stays as installed.
 */
import type { createRequestHandler } from 'local-aws-sqs';

type SqsService = ReturnType<typeof createRequestHandler>['service'];

type Attributes = Record<string, string> | undefined;
interface QueueLike {
  getAttributes(names?: string[]): Attributes;
}

const PATCHED = Symbol.for('drover.sqsBacklogCounts');

function patchQueueClass(queue: QueueLike): void {
  const proto = Object.getPrototypeOf(queue) as QueueLike & { [PATCHED]?: true };
  if (proto[PATCHED]) return;
  const original = proto.getAttributes;
  proto.getAttributes = function (this: QueueLike, names?: string[]): Attributes {
    const out = original.call(this, names);
    if (out?.ApproximateNumberOfMessages === undefined) return out;
    const counts = original.call(this, [
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
    ]);
    const visible =
      Number(counts?.ApproximateNumberOfMessages ?? 0) -
      Number(counts?.ApproximateNumberOfMessagesNotVisible ?? 0);
    return { ...out, ApproximateNumberOfMessages: String(Math.max(0, visible)) };
  };
  proto[PATCHED] = true;
}

/** Corrects the counts of every queue of `service` from its first queue on (call per request: O(1)). */
export function correctBacklogCounts(service: SqsService): void {
  const first = service.Queues[0] as unknown as QueueLike | undefined;
  if (first) patchQueueClass(first);
}
