/**
 * What drover answered each lifecycle action, kept in the lifecycle table under the action's
 * token: the `complete` step may run twice (a Lambda retry after an answer that applied, a
 * redelivered step), and Auto Scaling answers a second CompleteLifecycleAction with the same
 * ValidationError as an action that ended without drover. The record tells the two apart, and
 * lets the outcome's event be published once however often the step runs.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { lifecycleKeys } from './lifecycle-table.ts';

/** How a lifecycle action was answered (CompleteLifecycleAction's result), and why. */
export interface Outcome {
  result: 'CONTINUE' | 'ABANDON';
  reason: string;
  runId?: string;
  /**
   * What Auto Scaling made of the answer: `completed` (it applied `result`), or `not-active` (no
   * action was waiting any more: its heartbeat timeout had applied the hook's default result, or
   * someone else had answered it).
   */
  answered?: 'completed' | 'not-active';
}

/** How long an answer is kept: longer than any retry of the step (Auto Scaling's 48 h cap). */
const KEEP_SEC = 7 * 24 * 3600;

/** Key of the answer to the action with `token` on group `asg`. */
export const answerKey = lifecycleKeys.answer;
/** Key of the claim of the action with `token` on group `asg` by one execution. */
export const claimKey = lifecycleKeys.claim;

/** An execution's hold on an action: its run id and when it claimed it, or someone else's. */
export type ActionClaim = { mine: false } | { mine: true; runId: string; at: number; announced: boolean };

export interface RecordedAnswer {
  outcome: Outcome;
  /** When drover answered (ms). */
  at: number;
  /** Auto Scaling was answered and the outcome's event is on the bus (set after both). */
  announced: boolean;
}

export class LifecycleAnswers {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  /**
   * Records the answer unless one is recorded already. Returns `first` when this call recorded
   * it; otherwise the answer recorded before (the caller repeats a step that already ran).
   */
  async record(
    asg: string,
    token: string,
    outcome: Outcome,
    at: number,
  ): Promise<{ first: true } | { first: false; earlier: RecordedAnswer }> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...answerKey(asg, token),
            outcome,
            at,
            announced: false,
            expiresAt: Math.ceil(at / 1000) + KEEP_SEC,
          },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
      return { first: true };
    } catch (error: unknown) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    // Recorded before: read it back (strongly, so a retry right after the first write sees it).
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: answerKey(asg, token), ConsistentRead: true }),
    );
    const item = out.Item as (RecordedAnswer & { outcome: Outcome }) | undefined;
    if (!item) throw new Error(`the answer to lifecycle action ${token} vanished while it was read`);
    return { first: false, earlier: { outcome: item.outcome, at: item.at, announced: item.announced } };
  }

  /**
   * Claims the action for one lifecycle execution, with the id its command's run will have.
   * EventBridge delivers an event at least once, so one action may start two executions: the
   * first to claim it handles it, the other stands aside. The same execution claiming again (its
   * Prepare step retried) gets its claim back: the same run id, and whether its start was announced.
   */
  async claim(
    asg: string,
    token: string,
    execution: string,
    runId: string,
    at: number,
  ): Promise<ActionClaim> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...claimKey(asg, token),
            execution,
            runId,
            at,
            announced: false,
            expiresAt: Math.ceil(at / 1000) + KEEP_SEC,
          },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
      return { mine: true, runId, at, announced: false };
    } catch (error: unknown) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: claimKey(asg, token), ConsistentRead: true }),
    );
    const item = out.Item as { execution: string; runId: string; at: number; announced: boolean } | undefined;
    if (!item || item.execution !== execution) return { mine: false };
    return { mine: true, runId: item.runId, at: item.at, announced: item.announced };
  }

  /** Marks the start of the claimed action announced (Bootstrap/Decommission Started). */
  async claimAnnounced(asg: string, token: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: claimKey(asg, token),
        UpdateExpression: 'SET #announced = :yes',
        ExpressionAttributeNames: { '#announced': 'announced' },
        ExpressionAttributeValues: { ':yes': true },
      }),
    );
  }

  /** Marks the answer given to Auto Scaling and its event published. */
  async settle(asg: string, token: string, answered: NonNullable<Outcome['answered']>): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: answerKey(asg, token),
        UpdateExpression: 'SET #outcome.#answered = :answered, #announced = :yes',
        ExpressionAttributeNames: {
          '#outcome': 'outcome',
          '#answered': 'answered',
          '#announced': 'announced',
        },
        ExpressionAttributeValues: { ':answered': answered, ':yes': true },
      }),
    );
  }
}
