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

describe('a request sent while the agent restarts', () => {
  it("reaches the agent that is back, although the stopped agent's long poll took it", async () => {
    // Prepare: an agent's inbox loop long-polls, then stops (its poll stays open on SQS's side).
    h = await startAgentHarness();
    const options = { sqs: h.sqs, log: jsonLog(() => undefined, 'error'), stage: STAGE, nodeId: 'restart-1' };
    const stopped = new AbortController();
    const first = new Inbox({
      ...options,
      signal: stopped.signal,
      deadLetterPath: join(h.dir, 'dl-1.jsonl'),
    });
    await first.create();
    const firstLoop = first.poll(
      () => 20,
      () => Promise.reject(new Error('the stopped agent handles nothing')),
      () => Promise.resolve(),
    );
    await new Promise((r) => setTimeout(r, 300));
    stopped.abort();
    await firstLoop;

    // Act: the request arrives, then the agent starts again and polls.
    await h.send(first.url, 'a request');
    const running = new AbortController();
    const second = new Inbox({
      ...options,
      signal: running.signal,
      deadLetterPath: join(h.dir, 'dl-2.jsonl'),
    });
    await second.create();
    const received: string[] = [];
    const secondLoop = second.poll(
      () => 1,
      (message) => {
        received.push(message.Body ?? '');
        return second.delete(message);
      },
      () => Promise.resolve(),
    );
    // Within 20 s: hidden for the short receive visibility, not for the inbox's 60 s.
    await waitUntil(() => received.length > 0, 'the request, at the agent that is back', 20_000);
    running.abort();
    await secondLoop;

    // Assess
    expect(received).toEqual(['a request']);
  }, 60_000);
});
