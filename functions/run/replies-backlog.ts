/**
 * The replies queue's backlog, as CloseBatch asks for it before giving up on hosts: messages not
 * yet received (`ApproximateNumberOfMessages`) and received but not yet deleted, i.e. held by
 * ingest or waiting to be retried (`ApproximateNumberOfMessagesNotVisible`). One
 * GetQueueAttributes call (IAM: `sqs:GetQueueAttributes` on the replies queue, CloseBatchRole).
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RepliesBacklog } from './close-batch.ts';

export const BACKLOG_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
] as const;

export function repliesBacklogOf(sqs: SQSClient, queueUrl: string): () => Promise<RepliesBacklog> {
  return async () => {
    const out = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...BACKLOG_ATTRIBUTES] }),
    );
    const count = (name: (typeof BACKLOG_ATTRIBUTES)[number]) => Number(out.Attributes?.[name] ?? 0);
    return {
      visible: count('ApproximateNumberOfMessages'),
      inFlight: count('ApproximateNumberOfMessagesNotVisible'),
    };
  };
}
