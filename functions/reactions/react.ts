/**
 * The `react` function's work: a Node Joined/Lost/Terminated event on the stage's bus starts the
 * reactions it sets off, each as a run on the reacting group's hosts (their `group` fact), named
 * after the reaction and the event's debounce window (shared/reactions.ts) so that the window's
 * other events, and EventBridge's redeliveries of this one, start nothing more.
 */
import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { BusEvent, EventPublisher } from '#shared/drover-events.ts';
import { GROUP_FACT } from '#shared/fleet-file/group-name.ts';
import { runInputSchema, type RunInput } from '#shared/messages.ts';
import {
  REACTION_DETAIL_TYPES,
  matchingReactions,
  reactionCaller,
  reactionRunId,
  windowStart,
  type ChangedHost,
  type GroupReactions,
  type StoredReaction,
} from '#shared/reactions.ts';

export interface ReactDeps {
  reactions: () => Promise<GroupReactions[]>;
  /** The `group` fact of a node the facts table still has. */
  groupOf: (nodeId: string) => Promise<string | undefined>;
  sfn: Pick<SFNClient, 'send'>;
  runStateMachineArn: string;
  events: EventPublisher;
  windowSec: number;
  log: { info(message: string, extra: Record<string, unknown>): void };
}

export interface ReactOutcome {
  started: string[];
  debounced: string[];
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The host the event is about: its event, its ASG, and its group (the event's facts, or the table's). */
async function changedHost(event: BusEvent, deps: ReactDeps): Promise<ChangedHost | undefined> {
  const kind = REACTION_DETAIL_TYPES[event['detail-type']];
  if (!kind) return undefined;
  const facts = event.detail.facts as Record<string, unknown> | undefined;
  const nodeId = text(event.detail.nodeId);
  const group = text(facts?.[GROUP_FACT]) ?? (nodeId !== undefined ? await deps.groupOf(nodeId) : undefined);
  const asg = text(event.detail.asg);
  return { event: kind, ...(asg ? { asg } : {}), ...(group ? { group } : {}) };
}

/**
 * The run input of a reaction: its command on every in-service host of the reacting group, the
 * caller naming the reaction and the change that started it.
 */
export function reactionRunInput(
  runId: string,
  reacting: Pick<GroupReactions, 'group' | 'targetAsg'>,
  reaction: StoredReaction,
  cause: string,
): RunInput {
  // Quoted, so a name that looks like a number still compares as the text the host reports.
  const fact =
    reacting.targetAsg !== undefined ? `asg="${reacting.targetAsg}"` : `${GROUP_FACT}="${reacting.group}"`;
  return runInputSchema.parse({
    runId,
    command: { shell: reaction.run },
    filter: { with: [], fact: [fact], class: [], identity: [] },
    options: { timeoutSec: 900 },
    caller: `${reactionCaller(reacting.group, reaction)}:${cause}`,
  });
}

export async function react(event: BusEvent, deps: ReactDeps): Promise<ReactOutcome> {
  const outcome: ReactOutcome = { started: [], debounced: [] };
  const host = await changedHost(event, deps);
  if (!host) return outcome;
  const at = typeof event.detail.at === 'number' ? event.detail.at : Date.parse(event.time);
  const matches = matchingReactions(await deps.reactions(), host);
  for (const { reacting: group, reaction, asg } of matches) {
    const reacting = group;
    const runId = reactionRunId(reacting, reaction, windowStart(at, deps.windowSec));
    // The input names the host that changed: in AWS, StartExecution of a running execution's name
    // with the same input returns it (only a redelivery of this very event), with another input
    // it fails with ExecutionAlreadyExists, as the local emulator always does.
    const cause = text(event.detail.identity) ?? text(event.detail.nodeId) ?? 'unknown';
    const input = reactionRunInput(runId, { group, ...(asg ? { targetAsg: asg } : {}) }, reaction, cause);
    try {
      const out = await deps.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: deps.runStateMachineArn,
          name: runId,
          input: JSON.stringify(input),
        }),
      );
      outcome.started.push(runId);
      deps.log.info('reaction run started', { runId, reacting, on: reaction.on, watched: reaction.group });
      await deps.events.publish('Run Started', {
        at: Date.now(),
        runId,
        caller: input.caller,
        cause: `${reaction.group} host ${cause} ${reaction.on}`,
        startedAt: out.startDate?.getTime(),
      });
    } catch (error: unknown) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
      outcome.debounced.push(runId);
      deps.log.info('reaction debounced: its window already has the run', { runId, reacting });
    }
  }
  return outcome;
}
