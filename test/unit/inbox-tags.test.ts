/**
 * On EC2 the agent's inbox carries the instance ARN (`drover:instance`), the tag the agent policy
 * lets an instance use a queue by; an inbox an older agent created untagged is tagged at start.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { CreateQueueCommand, SQSClient, TagQueueCommand } from '@aws-sdk/client-sqs';
import { Inbox } from '#agent/receive/inbox.ts';
import type { AgentLog } from '#agent/json-log.ts';

const sqs = mockClient(SQSClient);
afterEach(() => sqs.reset());
const log = { info: () => {}, warn: () => {}, error: () => {} } as unknown as AgentLog;
const ARN = 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0';
const URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/drover-prod-node-i-0123456789abcdef0';

function inbox(instanceArn?: string): Inbox {
  return new Inbox({
    sqs: new SQSClient({ region: 'eu-west-1' }),
    log,
    stage: 'prod',
    nodeId: 'i-0123456789abcdef0',
    ...(instanceArn ? { instanceArn } : {}),
    // Never written here: no message fails in these tests.
    deadLetterPath: join(tmpdir(), 'drover-inbox-tags-unused', 'dead-letter.jsonl'),
    signal: new AbortController().signal,
  });
}

describe('the inbox of an EC2 agent', () => {
  it('is created with the instance ARN among its tags, and tagged with it in case it existed untagged', async () => {
    sqs.on(CreateQueueCommand).resolves({ QueueUrl: URL });
    sqs.on(TagQueueCommand).resolves({});

    await inbox(ARN).create();

    expect(sqs.commandCalls(CreateQueueCommand)[0]!.args[0].input.tags).toEqual({
      'drover:stage': 'prod',
      'drover:node': 'i-0123456789abcdef0',
      'drover:instance': ARN,
    });
    expect(sqs.commandCalls(TagQueueCommand)[0]!.args[0].input).toEqual({
      QueueUrl: URL,
      Tags: { 'drover:instance': ARN },
    });
  });

  it('off EC2 has no instance tag, and nothing is re-tagged', async () => {
    sqs.on(CreateQueueCommand).resolves({ QueueUrl: URL });

    await inbox().create();

    expect(sqs.commandCalls(CreateQueueCommand)[0]!.args[0].input.tags).not.toHaveProperty('drover:instance');
    expect(sqs.commandCalls(TagQueueCommand)).toHaveLength(0);
  });
});
