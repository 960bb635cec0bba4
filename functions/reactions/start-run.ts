/**
 * A reaction's run: its command on every in-service host of the reacting group, started on the
 * run state machine under a name fixed by the caller, announced on the bus with its cause. Shared
 * by the debounce window's end (fire.ts) and by a decommission (decommission.ts).
 */
import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { EventPublisher } from '#shared/drover-events.ts';
import { GROUP_FACT } from '#shared/fleet-file/group-name.ts';
import { runInputSchema, type RunInput } from '#shared/messages.ts';
import { reactionCaller, type GroupReactions, type StoredReaction } from '#shared/stores/reactions.ts';

/** Hosts named in a run's caller; more are counted (`+3 more`). */
const CALLER_HOSTS = 20;
/** Hosts listed in the Run Started event (an EventBridge entry is at most 256 KiB); all are counted. */
const EVENT_HOSTS = 100;

export interface ReactionRunDeps {
  sfn: Pick<SFNClient, 'send'>;
  runStateMachineArn: string;
  events: EventPublisher;
  log: { info(message: string, extra: Record<string, unknown>): void };
}

/** The reaction a run is of: the reacting group (and its ASG, if any) and the stored reaction. */
export interface ReactionRef {
  reacting: string;
  targetAsg?: string;
  reaction: StoredReaction;
}

/**
 * The run input of a reaction: its command on every in-service host of the reacting group, the
 * caller naming the reaction and the hosts whose change started it.
 */
export function reactionRunInput(
  runId: string,
  reacting: Pick<GroupReactions, 'group' | 'targetAsg'>,
  reaction: StoredReaction,
  hosts: readonly string[],
): RunInput {
  // Quoted, so a name that looks like a number still compares as the text the host reports.
  const fact =
    reacting.targetAsg !== undefined ? `asg="${reacting.targetAsg}"` : `${GROUP_FACT}="${reacting.group}"`;
  const named = hosts.slice(0, CALLER_HOSTS).join(',');
  const more = hosts.length > CALLER_HOSTS ? `,+${hosts.length - CALLER_HOSTS} more` : '';
  return runInputSchema.parse({
    runId,
    command: { shell: reaction.run },
    filter: { with: [], fact: [fact], class: [], identity: [] },
    options: { timeoutSec: 900 },
    caller: `${reactionCaller(reacting.group, reaction)}:${named}${more}`,
  });
}

/** What changed, in words: `api host api-1 joined`, `api hosts api-1, api-2 lost`. */
export const causeText = (reaction: StoredReaction, hosts: readonly string[]): string =>
  `${reaction.group} host${hosts.length === 1 ? '' : 's'} ${hosts.join(', ')} ${reaction.on}`;

/**
 * Starts the run (or finds it started: a retried step asks for the same name and input) and
 * announces it. Returns false when the name was used by a run that has ended already.
 */
export async function startReactionRun(
  runId: string,
  ref: ReactionRef,
  hosts: readonly string[],
  deps: ReactionRunDeps,
  extra: Record<string, unknown> = {},
): Promise<boolean> {
  const input = reactionRunInput(
    runId,
    { group: ref.reacting, ...(ref.targetAsg ? { targetAsg: ref.targetAsg } : {}) },
    ref.reaction,
    hosts,
  );
  let startedAt: number | undefined;
  try {
    const out = await deps.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.runStateMachineArn,
        name: runId,
        input: JSON.stringify(input),
      }),
    );
    startedAt = out.startDate?.getTime();
  } catch (error: unknown) {
    // Same name, closed run: this reaction's run happened (a step retried after it ended).
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
    deps.log.info('reaction run already ran', { runId });
    return false;
  }
  deps.log.info('reaction run started', { runId, reacting: ref.reacting, hosts: hosts.length });
  await deps.events.publish('Run Started', {
    at: Date.now(),
    runId,
    caller: input.caller,
    cause:
      causeText(ref.reaction, hosts.slice(0, CALLER_HOSTS)) +
      (hosts.length > CALLER_HOSTS ? ` (${hosts.length} hosts)` : ''),
    hosts: hosts.slice(0, EVENT_HOSTS),
    hostCount: hosts.length,
    startedAt,
    ...extra,
  });
  return true;
}
