/**
 * Nothing the agent owes the run is dropped quietly: a result it could not send is kept on disk
 * and sent later (after a restart too), a rejection waiting for the replies queue does not hold
 * up the next request, and a message whose handling keeps failing is set aside after a few tries
 * instead of coming back for a day. Real SQS emulator, real agents.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { newRunId } from '#shared/ids.ts';
import { Inbox, MAX_HANDLING_ATTEMPTS } from '#agent/receive/inbox.ts';
import { jsonLog } from '#agent/json-log.ts';
import { startAgentHarness, STAGE, type AgentHarness, isResult } from '../helpers/agent-harness.ts';
import { signedRequest } from '../helpers/factories.ts';
import { waitUntil } from '../helpers/wait.ts';

let h: AgentHarness | undefined;

afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('replies the agent could not send', () => {
  it('keeps a result on disk when the replies queue refuses it, and sends it after a restart', async () => {
    // Prepare: a command runs while every reply is refused.
    h = await startAgentHarness({ proxy: true });
    const first = await h.startAgent({ nodeId: 'spool-1' });
    const runId = newRunId();
    await h.deliver(
      first.inboxUrl,
      signedRequest({ runId, targets: ['spool-1'], command: { shell: 'echo kept' } }),
    );
    h.proxy!.fail('throttle', 'SendMessageBatch');
    await waitUntil(() => h!.proxy!.faults.length > 0, 'a refused reply');

    // Act: the agent stops before the queue is back (its retries end), then starts again.
    await first.stop(5_000);
    const outbox = join(h.dir, 'spool-1', 'outbox');
    const kept = readdirSync(outbox).filter((name) => name.endsWith('.json'));
    h.proxy!.fail('none');
    await h.startAgent({ nodeId: 'spool-1' });

    // Assess
    expect(kept.length).toBeGreaterThan(0);
    expect(await h.waitForReply(isResult(runId))).toMatchObject({ exitCode: 0, stdout: { text: 'kept\n' } });
    await waitUntil(
      () => readdirSync(outbox).filter((n) => n.endsWith('.json')).length === 0,
      'an empty outbox',
    );
  }, 60_000);

  it('does not hold up the next request while a rejection waits for the replies queue', async () => {
    // Prepare: replies are refused; the first request is refused by the agent (filter).
    h = await startAgentHarness({ proxy: true });
    const agent = await h.startAgent({ nodeId: 'busy-loop-1' });
    h.proxy!.fail('throttle', 'SendMessageBatch');
    const marker = join(h.dir, 'second.marker');
    await h.deliver(
      agent.inboxUrl,
      signedRequest({
        runId: newRunId(),
        targets: ['busy-loop-1'],
        filter: { with: [], fact: ['role=nothing-matches'], class: [], identity: [] },
      }),
    );

    // Act
    await h.deliver(
      agent.inboxUrl,
      signedRequest({ runId: newRunId(), targets: ['busy-loop-1'], command: { shell: `touch ${marker}` } }),
    );

    // Assess: the second command ran while the rejection was still being retried.
    await waitUntil(() => existsSync(marker), 'the second request to run', 10_000);
    await h.collectReplies();
    expect(h.proxy!.faults.some((call) => call.endsWith('SendMessageBatch'))).toBe(true);
    expect(h.replies.some((r) => r.type === 'rejected')).toBe(false);
  }, 30_000);
});

describe('a message whose handling keeps failing', () => {
  it(`is tried ${MAX_HANDLING_ATTEMPTS} times, then written to the dead-letter file and deleted`, async () => {
    // Prepare
    h = await startAgentHarness();
    const abort = new AbortController();
    const deadLetterPath = join(h.dir, 'poison', 'dead-letter.jsonl');
    const inbox = new Inbox({
      sqs: h.sqs,
      log: jsonLog(() => undefined, 'error'),
      stage: STAGE,
      nodeId: 'poison-1',
      signal: abort.signal,
      deadLetterPath,
    });
    await inbox.create();
    await h.send(inbox.url, 'a message nothing can handle');
    let attempts = 0;

    // Act
    const loop = inbox.poll(
      () => 1,
      () => {
        attempts++;
        return Promise.reject(new Error('the disk is full'));
      },
      () => Promise.resolve(),
    );
    await waitUntil(() => existsSync(deadLetterPath), 'the dead-letter file', 30_000);
    const remaining = await h.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: inbox.url, AttributeNames: ['All'] }),
    );
    abort.abort();
    await loop;

    // Assess
    expect(attempts).toBe(MAX_HANDLING_ATTEMPTS);
    const [line] = readFileSync(deadLetterPath, 'utf8').trim().split('\n');
    expect(JSON.parse(line!)).toMatchObject({
      attempts: MAX_HANDLING_ATTEMPTS,
      error: 'Error: the disk is full',
      body: 'a message nothing can handle',
    });
    expect(remaining.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  }, 60_000);
});
