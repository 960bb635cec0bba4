import { describe, expect, it } from 'vitest';
import type { SendMessageBatchCommand, SendMessageBatchCommandOutput, SQSClient } from '@aws-sdk/client-sqs';
import { BatchEntryError, ReplyBatcher } from '#agent/reply/reply-batcher.ts';
import { isTransient } from '#agent/backoff.ts';

const QUEUE = 'http://127.0.0.1:1/000000000000/drover-test-replies';

type Answer = (input: SendMessageBatchCommand['input']) => Partial<SendMessageBatchCommandOutput>;

/** An SQS client that records each SendMessageBatch call and answers when the test says so. */
function fakeSqs(answer: Answer = (input) => ({ Successful: input.Entries!.map(taken) })) {
  const calls: { bodies: string[]; settle: () => void; fail: (error: unknown) => void }[] = [];
  const client = {
    send: (command: SendMessageBatchCommand) =>
      new Promise((resolve, reject) => {
        const input = command.input;
        expect(input.QueueUrl).toBe(QUEUE);
        calls.push({
          bodies: input.Entries!.map((e) => e.MessageBody!),
          settle: () => resolve(answer(input)),
          fail: reject,
        });
      }),
  };
  return { client: client as unknown as SQSClient, calls };
}

const taken = (entry: { Id?: string }) => ({
  Id: entry.Id!,
  MessageId: `m-${entry.Id}`,
  MD5OfMessageBody: '',
});

/** Lets the batcher's scheduled send run. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('ReplyBatcher', () => {
  it('sends one body alone, at the next turn of the event loop', async () => {
    const sqs = fakeSqs();
    const batcher = new ReplyBatcher(sqs.client, QUEUE);

    const sent = batcher.send('a');
    await turn();
    sqs.calls[0]!.settle();

    await expect(sent).resolves.toBeUndefined();
    expect(sqs.calls.map((c) => c.bodies)).toEqual([['a']]);
  });

  it('sends bodies handed over in the same turn together, ten a call, in order', async () => {
    const sqs = fakeSqs();
    const batcher = new ReplyBatcher(sqs.client, QUEUE);

    const sent = Array.from({ length: 23 }, (_, i) => batcher.send(`r${i}`));
    await turn();
    for (const call of sqs.calls) call.settle();

    await Promise.all(sent);
    expect(sqs.calls.map((c) => c.bodies.length)).toEqual([10, 10, 3]);
    expect(sqs.calls.flatMap((c) => c.bodies)).toEqual(Array.from({ length: 23 }, (_, i) => `r${i}`));
  });

  it('keeps a call within 256 KiB, and sends a larger body alone', async () => {
    const sqs = fakeSqs();
    const batcher = new ReplyBatcher(sqs.client, QUEUE);
    const big = 'x'.repeat(100 * 1024);

    const sent = [big, big, big, 'small', 'y'.repeat(300 * 1024)].map((body) => batcher.send(body));
    await turn();
    for (const call of sqs.calls) call.settle();

    await Promise.all(sent);
    expect(sqs.calls.map((c) => c.bodies.map((b) => b.length))).toEqual([
      [big.length, big.length],
      [big.length, 5],
      [300 * 1024],
    ]);
  });

  it('holds bodies while the calls in flight are at the limit, then sends them together', async () => {
    const sqs = fakeSqs();
    const batcher = new ReplyBatcher(sqs.client, QUEUE, { maxInFlight: 1 });

    const first = batcher.send('first');
    await turn();
    const later = ['a', 'b', 'c'].map((body) => batcher.send(body));
    await turn();
    expect(sqs.calls).toHaveLength(1);

    sqs.calls[0]!.settle();
    await first;
    await turn();
    sqs.calls[1]!.settle();

    await Promise.all(later);
    expect(sqs.calls.map((c) => c.bodies)).toEqual([['first'], ['a', 'b', 'c']]);
  });

  it('rejects only the entries SQS did not take, with its code, retryable unless the sender is at fault', async () => {
    const sqs = fakeSqs((input) => ({
      Successful: [taken(input.Entries![0]!)],
      Failed: [
        { Id: '1', Code: 'InternalError', SenderFault: false, Message: 'try again' },
        { Id: '2', Code: 'InvalidParameterValue', SenderFault: true, Message: 'Message must be shorter' },
      ],
    }));
    const batcher = new ReplyBatcher(sqs.client, QUEUE);

    const [ok, serverFault, senderFault] = ['a', 'b', 'c'].map((body) => batcher.send(body));
    await turn();
    sqs.calls[0]!.settle();

    await expect(ok).resolves.toBeUndefined();
    const retryable = await serverFault!.catch((e: unknown) => e);
    const final = await senderFault!.catch((e: unknown) => e);
    expect(retryable).toBeInstanceOf(BatchEntryError);
    expect(retryable).toMatchObject({ name: 'InternalError', message: 'try again' });
    expect(isTransient(retryable)).toBe(true);
    expect(final).toMatchObject({ name: 'InvalidParameterValue', $fault: 'client' });
    expect(isTransient(final)).toBe(false);
  });

  it('rejects an entry SQS reported on neither way, as retryable', async () => {
    const sqs = fakeSqs(() => ({ Successful: [] }));
    const batcher = new ReplyBatcher(sqs.client, QUEUE);

    const sent = batcher.send('lost?');
    await turn();
    sqs.calls[0]!.settle();

    const error = await sent.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchEntryError);
    expect(isTransient(error)).toBe(true);
  });

  it('rejects every body of a call that failed with the call error, and goes on with the next', async () => {
    const sqs = fakeSqs();
    const batcher = new ReplyBatcher(sqs.client, QUEUE, { maxInFlight: 1 });
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

    const failed = ['a', 'b'].map((body) => batcher.send(body));
    await turn();
    const next = batcher.send('c');
    sqs.calls[0]!.fail(reset);

    for (const p of failed) await expect(p).rejects.toBe(reset);
    await turn();
    sqs.calls[1]!.settle();
    await expect(next).resolves.toBeUndefined();
  });

  describe('bodies that may linger (heartbeats)', () => {
    it('holds one for company until its time is up, then sends it', async () => {
      const sqs = fakeSqs();
      const batcher = new ReplyBatcher(sqs.client, QUEUE);

      const sent = batcher.send('hb', { lingerMs: 50 });
      await turn();
      const before = sqs.calls.length;
      await new Promise((r) => setTimeout(r, 100));
      await turn();
      sqs.calls[0]?.settle();

      await expect(sent).resolves.toBeUndefined();
      expect(before).toBe(0);
      expect(sqs.calls.map((c) => c.bodies)).toEqual([['hb']]);
    });

    it('lets it ride along in the next call with room, after the bodies that cannot wait', async () => {
      const sqs = fakeSqs();
      const batcher = new ReplyBatcher(sqs.client, QUEUE);

      const heartbeats = [
        batcher.send('hb1', { lingerMs: 60_000 }),
        batcher.send('hb2', { lingerMs: 60_000 }),
      ];
      await turn();
      const result = batcher.send('result');
      await turn();
      for (const call of sqs.calls) call.settle();

      await Promise.all([...heartbeats, result]);
      expect(sqs.calls.map((c) => c.bodies)).toEqual([['result', 'hb1', 'hb2']]);
    });

    it('sends ten together at once, without waiting', async () => {
      const sqs = fakeSqs();
      const batcher = new ReplyBatcher(sqs.client, QUEUE);

      const sent = Array.from({ length: 12 }, (_, i) => batcher.send(`hb${i}`, { lingerMs: 60_000 }));
      await turn();
      sqs.calls[0]?.settle();

      await Promise.all(sent.slice(0, 10));
      expect(sqs.calls.map((c) => c.bodies)).toEqual([Array.from({ length: 10 }, (_, i) => `hb${i}`)]);
      // The two left wait for company or their time, and flush() sends them now.
      batcher.flush();
      await turn();
      sqs.calls[1]?.settle();
      await Promise.all(sent);
      expect(sqs.calls[1]?.bodies).toEqual(['hb10', 'hb11']);
    });
  });

  describe('with a linger for every body (agents sharing a process)', () => {
    it('gathers bodies handed over a few milliseconds apart into one call', async () => {
      const sqs = fakeSqs();
      const batcher = new ReplyBatcher(sqs.client, QUEUE, { lingerMs: 200 });

      const sent = [batcher.send('r1')];
      await new Promise((r) => setTimeout(r, 20));
      sent.push(batcher.send('r2'));
      await turn();
      const before = sqs.calls.length;
      await new Promise((r) => setTimeout(r, 300));
      await turn();
      sqs.calls[0]?.settle();

      await Promise.all(sent);
      expect(before).toBe(0);
      expect(sqs.calls.map((c) => c.bodies)).toEqual([['r1', 'r2']]);
    });

    it('sends by the earliest due body: a heartbeat waiting longer goes with it', async () => {
      const sqs = fakeSqs();
      const batcher = new ReplyBatcher(sqs.client, QUEUE, { lingerMs: 30 });

      const heartbeat = batcher.send('hb', { lingerMs: 60_000 });
      const result = batcher.send('result');
      await new Promise((r) => setTimeout(r, 200));
      await turn();
      sqs.calls[0]?.settle();

      await Promise.all([heartbeat, result]);
      expect(sqs.calls.map((c) => c.bodies)).toEqual([['hb', 'result']]);
    });
  });
});
