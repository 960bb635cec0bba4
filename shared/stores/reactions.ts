/**
 * Reactions (the fleet file's `reactions`, the notes' "service notification"): when a host of one
 * group joins, is lost or is terminated, a command runs on the hosts of the reacting group. Stored
 * by `drover fleet apply`, one item per reacting group in the stage's lifecycle table (key
 * `reactions#<group>`, sort key `reactions`; the lifecycle configurations are the `config` items);
 * read by the `react` function on the stage bus's Node Joined/Lost/Terminated events.
 *
 * Debounce (trailing): the changes of one reaction within one fixed window make one run, started
 * when the window closes and listing them all. Each change is added to the window's pending item
 * (shared/reaction-windows.ts), then the window's timer is started: an execution of the reaction
 * state machine (a Wait until the window's end, then `fire`) named like the run, with an input made
 * of the reaction and the window only, so every change of the window, from whichever Lambda, and
 * every redelivery asks Step Functions for the same execution, which starts once.
 */
import { createHash } from 'node:crypto';
import { DeleteCommand, PutCommand, paginateScan, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { lifecycleKeys, REACTIONS_SK } from './lifecycle-table.ts';
import { reactionSchema, REACTION_EVENTS } from '../fleet-file/schema.ts';
import { GROUP_NAME } from '../fleet-file/group-name.ts';

export { REACTION_EVENTS } from '../fleet-file/schema.ts';
export type ReactionEvent = (typeof REACTION_EVENTS)[number];

/**
 * Seconds of one debounce window: the changes within it make one run, started when it closes.
 * `DROVER_REACTION_WINDOW_SEC` on the react function sets another (1 to 3600; tests use 1-2).
 */
export const REACTION_WINDOW_SEC = 30;

/** The bus events reactions follow, and the reaction event each one is. */
export const REACTION_DETAIL_TYPES: Readonly<Record<string, ReactionEvent>> = {
  'Node Joined': 'joined',
  'Node Lost': 'lost',
  'Node Terminated': 'terminated',
};

export const storedReactionSchema = reactionSchema
  .extend({
    /** The Auto Scaling group of the watched group, when it names one: events carry it. */
    asg: z.string().min(1).max(255).optional(),
  })
  .strict();
export type StoredReaction = z.infer<typeof storedReactionSchema>;

export const groupReactionsSchema = z
  .object({
    /** The reacting group: its hosts run the commands. */
    group: z.string().regex(GROUP_NAME),
    /**
     * Its Auto Scaling group, if it names one: its hosts are then those reporting `asg` (as every
     * instance of the group does); otherwise those reporting `group: <group>`. (Not `asg`: that
     * is the key attribute of the table the item lives in.)
     */
    targetAsg: z.string().min(1).max(255).optional(),
    reactions: z.array(storedReactionSchema).min(1).max(100),
    updatedAt: z.number().int(),
    updatedBy: z.string(),
  })
  .strict();
export type GroupReactions = z.infer<typeof groupReactionsSchema>;

/**
 * DynamoDB items are at most 400 KB; a group's reactions are one item. Measured as JSON, which is
 * close to DynamoDB's own count (attribute names and values in UTF-8), with room for the keys.
 */
export const MAX_REACTIONS_ITEM_BYTES = 380 * 1024;

/** Why a group's reactions cannot be stored, or undefined when they can. */
export function reactionsTooBig(reactions: GroupReactions): string | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(reactions));
  return bytes > MAX_REACTIONS_ITEM_BYTES
    ? `the reactions of ${reactions.group} take ${bytes} bytes; one group's reactions are stored as one DynamoDB item, at most ${MAX_REACTIONS_ITEM_BYTES} bytes: shorten the commands (a script on the hosts)`
    : undefined;
}

const keyOf = lifecycleKeys.reactions;

export class ReactionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  async list(): Promise<GroupReactions[]> {
    const items: GroupReactions[] = [];
    const pages = paginateScan(
      { client: this.db },
      {
        TableName: this.table,
        FilterExpression: 'sk = :sk',
        ExpressionAttributeValues: { ':sk': REACTIONS_SK },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const { asg: _asg, sk: _sk, ...rest } = item;
        items.push(groupReactionsSchema.parse(rest));
      }
    }
    return items.sort((a, b) => a.group.localeCompare(b.group));
  }

  async put(reactions: GroupReactions): Promise<void> {
    const item = groupReactionsSchema.parse(reactions);
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...keyOf(item.group), ...item } }));
  }

  async remove(group: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: keyOf(group) }));
  }
}

/** What the react function knows of the host an event is about. */
export interface ChangedHost {
  event: ReactionEvent;
  /** Its Auto Scaling group (the event's `asg`). */
  asg?: string;
  /** Its `group` fact, when known. */
  group?: string;
}

/** The reactions a change of `host` sets off: same event, and the host is of the watched group. */
export function matchingReactions(
  stored: readonly GroupReactions[],
  host: ChangedHost,
): { reacting: string; asg?: string; reaction: StoredReaction }[] {
  return stored.flatMap((g) =>
    g.reactions
      .filter(
        (r) =>
          r.on === host.event &&
          ((host.group !== undefined && r.group === host.group) ||
            (host.asg !== undefined && r.asg !== undefined && r.asg === host.asg)),
      )
      .map((reaction) => ({ reacting: g.group, ...(g.targetAsg ? { asg: g.targetAsg } : {}), reaction })),
  );
}

/** Start (seconds since the epoch) of the debounce window `at` (ms) falls in. */
export const windowStart = (at: number, windowSec = REACTION_WINDOW_SEC): number =>
  Math.floor(at / 1000 / windowSec) * windowSec;

/**
 * The run id (execution name) of a reaction in a window: the same for every event of the window,
 * different for every reaction (the hash covers the reacting group, event, watched group and
 * command). Up to 80 of `[0-9A-Za-z_-]`, as Step Functions allows; readable where it fits.
 */
export function reactionRunId(reacting: string, reaction: StoredReaction, windowStartSec: number): string {
  return `reaction-${reaction.on}-${windowStartSec}-${reactionKey(reacting, reaction)}-${reacting}`.slice(
    0,
    80,
  );
}

/** A reaction's identity: a hash of the reacting group, event, watched group and command. */
export function reactionKey(reacting: string, reaction: StoredReaction): string {
  return createHash('sha256')
    .update(JSON.stringify([reacting, reaction.on, reaction.group, reaction.run]))
    .digest('hex')
    .slice(0, 10);
}

/** Who started a reaction's run, recorded as its caller. */
export const reactionCaller = (reacting: string, reaction: StoredReaction): string =>
  `reaction:${reacting}:${reaction.group}-${reaction.on}`;
