/**
 * The durable state of reactions, in the stage's lifecycle table (next to the reactions
 * themselves and the lifecycle waits):
 *
 * - A debounce window's pending changes: one item per reaction and window (key
 *   `reaction-window#<run id>`), holding the set of hosts whose change falls in it. The react
 *   function adds to it before it starts the window's timer; the timer's end fires it once
 *   (`firedAt`), which freezes the set: the run it starts lists exactly those hosts, and a change
 *   added later (a late first delivery) is refused and goes to the window of its arrival.
 * - A decommission's reactions: the lifecycle state machine ran a terminating host's `terminated`
 *   reactions before its decommission (key `reacted#<node id>`), so the later Node Terminated of
 *   that host must not run them again.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { lifecycleKeys } from './lifecycle-table.ts';

/** Kept a day after their window (TTL): long enough for any redelivery EventBridge makes (24 h). */
const KEEP_SEC = 86_400 + 3_600;

const windowKey = lifecycleKeys.reactionWindow;
const reactedKey = lifecycleKeys.reacted;

/** What adding a host's change to a window did. */
export type AddOutcome =
  | { state: 'pending' }
  /** The window fired already and its run listed this host: a redelivery, nothing to do. */
  | { state: 'duplicate' }
  /** The window fired already without this host (a late delivery): it belongs to a later window. */
  | { state: 'late' };

export class ReactionWindows {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  /** Adds `host` to the window of run `runId` unless the window fired; a set, so adding twice is once. */
  async add(runId: string, host: string, windowEndSec: number): Promise<AddOutcome> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: windowKey(runId),
          UpdateExpression: 'ADD hosts :h SET expiresAt = if_not_exists(expiresAt, :exp)',
          ConditionExpression: 'attribute_not_exists(firedAt)',
          ExpressionAttributeValues: { ':h': new Set([host]), ':exp': windowEndSec + KEEP_SEC },
        }),
      );
      return { state: 'pending' };
    } catch (error: unknown) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = await this.#item(runId);
      return setOf(item?.hosts).includes(host) || setOf(item?.moved).includes(host)
        ? { state: 'duplicate' }
        : { state: 'late' };
    }
  }

  /**
   * Notes on a fired window that `host`, late for it, was put in a later window: a redelivery of
   * the same change is then known as one (called after the later window holds it).
   */
  async markMoved(runId: string, host: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: windowKey(runId),
        UpdateExpression: 'ADD moved :h',
        ExpressionAttributeValues: { ':h': new Set([host]) },
      }),
    );
  }

  /**
   * Fires the window: from now on its set of hosts is what it is. Firing again (a retried step)
   * returns the same set, so the run it starts gets the same input (Step Functions' idempotency).
   */
  async fire(runId: string, nowMs: number): Promise<string[]> {
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: windowKey(runId),
        // An item that expired (or never was) is written fired, so it too expires.
        UpdateExpression:
          'SET firedAt = if_not_exists(firedAt, :now), expiresAt = if_not_exists(expiresAt, :exp)',
        ExpressionAttributeValues: { ':now': nowMs, ':exp': Math.ceil(nowMs / 1000) + KEEP_SEC },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return setOf(out.Attributes?.hosts);
  }

  /** The hosts of a window so far (sorted). */
  async hosts(runId: string): Promise<string[]> {
    return setOf((await this.#item(runId))?.hosts);
  }

  async #item(runId: string): Promise<Record<string, unknown> | undefined> {
    return (await this.db.send(new GetCommand({ TableName: this.table, Key: windowKey(runId) }))).Item;
  }

  /** Records that these reactions (by {@link reactionKey}) ran for `nodeId`'s termination. */
  async markReacted(nodeId: string, reactionKeys: readonly string[], nowMs: number): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...reactedKey(nodeId),
          reactions: [...reactionKeys],
          at: nowMs,
          expiresAt: Math.ceil(nowMs / 1000) + KEEP_SEC,
        },
      }),
    );
  }

  /** The reactions that already ran for `nodeId`'s termination (before its decommission). */
  async reacted(nodeId: string): Promise<string[]> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: reactedKey(nodeId) }));
    const keys: unknown = out.Item?.reactions;
    return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [];
  }
}

function setOf(value: unknown): string[] {
  const items = value instanceof Set ? [...(value as Set<unknown>)] : Array.isArray(value) ? value : [];
  return items.filter((h): h is string => typeof h === 'string').sort();
}
