/**
 * The batch side of the reply ledger: the counting markers (sets of node ids, so a retried or
 * replayed counting write counts nothing twice, and a redelivery repairs a count that was lost)
 * and the task tokens of the two waits, released the moment the counts reach their target.
 */
import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { awsErrorName } from '#shared/aws.ts';
import { batchSk, type BatchItem } from '#shared/runs-table.ts';
import type { RunItems } from '#shared/stores/runs-items.ts';
import { acksComplete, batchCounts, resultsComplete, type Marker } from './reply-transitions.ts';

export type Phase = 'acks' | 'results';
/** A batch's markers to add: node ids by marker set. */
export type Markers = Map<Marker, Set<string>>;

const TOKEN_ATTR: Record<Phase, 'ackToken' | 'resultToken'> = { acks: 'ackToken', results: 'resultToken' };
const DONE_ATTR: Record<Phase, string> = { acks: 'acksDoneAt', results: 'resultsDoneAt' };

export class BatchWaits {
  constructor(
    private readonly items: RunItems,
    private readonly sfn: SFNClient,
    private readonly now: () => number,
  ) {}

  /**
   * Adds node ids to the batch's marker sets: a set union, so applying it twice (an SDK retry of a
   * write that applied, a redelivered reply) changes nothing. Returns the batch as it is now.
   */
  async addMarkers(runId: string, batch: number, markers: Markers): Promise<BatchItem> {
    const entries = [...markers.entries()];
    return (await this.items.update<BatchItem>(runId, batchSk(batch), {
      UpdateExpression: 'ADD ' + entries.map((_, i) => `#m${i} :m${i}`).join(', '),
      ConditionExpression: 'attribute_exists(runId)',
      ExpressionAttributeNames: Object.fromEntries(entries.map(([marker], i) => [`#m${i}`, marker])),
      values: Object.fromEntries(entries.map(([, ids], i) => [`:m${i}`, ids])),
      ReturnValues: 'ALL_NEW',
    }))!;
  }

  /**
   * Stores the task token of a wait, then checks the counters itself: replies may all be in
   * already, and ingest only releases waits whose token it can see.
   */
  async register(runId: string, batch: number, phase: Phase, token: string): Promise<void> {
    const item = await this.items.update<BatchItem>(runId, batchSk(batch), {
      UpdateExpression: 'SET #t = :t',
      ConditionExpression: 'attribute_exists(runId)',
      ExpressionAttributeNames: { '#t': TOKEN_ATTR[phase] },
      values: { ':t': token },
      ReturnValues: 'ALL_NEW',
    });
    await this.releaseReached(item!);
  }

  /** Resumes a wait now, whatever the counters say (the run was cancelled). */
  async releaseNow(runId: string, batch: number, phase: Phase): Promise<void> {
    const batchItem = await this.items.get<BatchItem>(runId, batchSk(batch));
    const token = batchItem?.[TOKEN_ATTR[phase]];
    if (batchItem && token) await this.#release(batchItem, phase, token);
  }

  /** Releases each wait of the batch whose target its counts have reached. */
  async releaseReached(batch: BatchItem): Promise<void> {
    const counts = batchCounts(batch);
    if (batch.ackToken && acksComplete(counts)) await this.#release(batch, 'acks', batch.ackToken);
    if (batch.resultToken && resultsComplete(counts))
      await this.#release(batch, 'results', batch.resultToken);
  }

  /** Claims the token (only one caller wins) and resumes the state machine. */
  async #release(batch: BatchItem, phase: Phase, token: string): Promise<void> {
    try {
      await this.items.update(batch.runId, batch.sk, {
        UpdateExpression: 'REMOVE #t SET #at = :now',
        ConditionExpression: '#t = :t',
        ExpressionAttributeNames: { '#t': TOKEN_ATTR[phase], '#at': DONE_ATTR[phase] },
        values: { ':t': token, ':now': this.now() },
      });
    } catch (error: unknown) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return;
      throw error;
    }
    try {
      await this.sfn.send(
        new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ phase }) }),
      );
    } catch (error: unknown) {
      // The wait may have timed out already; the state machine has moved on without us.
      if (awsErrorName(error) === 'TaskTimedOut' || awsErrorName(error) === 'TaskDoesNotExist') return;
      // Put the token back, so the next reply or redelivery of this batch releases the wait; if
      // even that fails, the wait runs to its timeout, which the state machine treats as normal.
      await this.items
        .update(batch.runId, batch.sk, {
          UpdateExpression: 'SET #t = :t REMOVE #at',
          ConditionExpression: 'attribute_not_exists(#t)',
          ExpressionAttributeNames: { '#t': TOKEN_ATTR[phase], '#at': DONE_ATTR[phase] },
          values: { ':t': token },
        })
        .catch(() => undefined);
      throw error;
    }
  }
}
