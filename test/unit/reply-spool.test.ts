/**
 * The sender keeps a run's reply it could not send in the spool and sends it when the replies
 * queue takes replies again; a heartbeat is let go; a reply the queue keeps refusing is set aside.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReplySender } from '#agent/reply/reply-sender.ts';
import { ReplySpool } from '#agent/reply/reply-spool.ts';
import type { ReplyBatcher } from '#agent/reply/reply-batcher.ts';
import { jsonLog } from '#agent/json-log.ts';
import { heartbeatReply, resultReply } from '../helpers/factories.ts';
import { tempDirPerTest } from '../helpers/temp-dir.ts';
import { waitUntil } from '../helpers/wait.ts';

const dir = tempDirPerTest('drover-spool-');
const log = jsonLog(() => undefined, 'error');

/** A replies queue that refuses everything while `down`, with the error an outage gives. */
function queue() {
  const state = { down: true, permanent: false, taken: [] as string[] };
  const batcher = {
    send(body: string): Promise<void> {
      if (state.permanent) {
        return Promise.reject(
          Object.assign(new Error('too big'), { name: 'InvalidParameterValue', $fault: 'client' }),
        );
      }
      if (state.down)
        return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      state.taken.push(body);
      return Promise.resolve();
    },
  } as unknown as ReplyBatcher;
  return { state, batcher };
}

describe('ReplySender with a spool', () => {
  it('keeps a result it could not send and sends it once the queue takes replies again', async () => {
    // Prepare
    const { state, batcher } = queue();
    const spool = new ReplySpool(join(dir.path(), 'outbox'), (b) => batcher.send(b), log, { retryMs: 20 });
    const sender = new ReplySender(batcher, log, { attempts: 2, maxDelayMs: 1, spool });
    const result = resultReply({ runId: 'RUN-SPOOL' });

    // Act
    const sent = await sender.send(result);
    const keptWhileDown = spool.pending().length;
    state.down = false;
    await waitUntil(() => state.taken.length === 1);

    // Assess
    expect(sent).toBe(false);
    expect(keptWhileDown).toBe(1);
    expect(JSON.parse(state.taken[0]!)).toEqual(result);
    await waitUntil(() => spool.pending().length === 0);
    spool.stop();
  });

  it('lets a heartbeat go: the next one replaces it', async () => {
    const { batcher } = queue();
    const spool = new ReplySpool(join(dir.path(), 'outbox'), (b) => batcher.send(b), log, { retryMs: 20 });
    const sender = new ReplySender(batcher, log, { attempts: 1, spool });

    expect(await sender.send(heartbeatReply())).toBe(false);
    expect(spool.pending()).toEqual([]);
    spool.stop();
  });

  it('sets aside, loudly, a kept reply the queue keeps refusing for a reason of its own', async () => {
    const { state, batcher } = queue();
    const outbox = join(dir.path(), 'outbox');
    const errors: string[] = [];
    const loud = jsonLog((line) => errors.push(line), 'error');
    const spool = new ReplySpool(outbox, (b) => batcher.send(b), loud, { retryMs: 10 });
    spool.keep(JSON.stringify(resultReply()));
    state.permanent = true;

    await waitUntil(() => readdirSync(outbox).some((name) => name.endsWith('.refused')));

    expect(spool.pending()).toEqual([]);
    expect(errors.some((line) => line.includes('set aside, not sent'))).toBe(true);
    spool.stop();
  });
});
