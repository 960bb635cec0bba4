/**
 * The `react` function's work on a Node Joined/Lost/Terminated event of the stage's bus: for each
 * reaction it sets off, add the host to the reaction's current debounce window (a DynamoDB item)
 * and start the window's timer (the reaction state machine, named after the window, so the
 * window's other events and EventBridge's redeliveries start nothing more). The run itself starts
 * when the window closes (fire.ts), with every host of the window.
 */
import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { BusEvent } from '#shared/drover-events.ts';
import { GROUP_FACT } from '#shared/fleet-file/group-name.ts';
import type { ReactionWindows } from '#shared/stores/reaction-windows.ts';
import {
  REACTION_DETAIL_TYPES,
  matchingReactions,
  reactionKey,
  reactionRunId,
  windowStart,
  type ChangedHost,
  type GroupReactions,
  type StoredReaction,
} from '#shared/stores/reactions.ts';

export interface ReactDeps {
  reactions: () => Promise<GroupReactions[]>;
  /** The `group` fact of a node the facts table still has. */
  groupOf: (nodeId: string) => Promise<string | undefined>;
  windows: Pick<ReactionWindows, 'add' | 'markMoved' | 'reacted'>;
  sfn: Pick<SFNClient, 'send'>;
  /** The reaction state machine: wait for a window's end, then fire it. */
  reactionStateMachineArn: string;
  windowSec: number;
  now: () => number;
  log: {
    info(message: string, extra: Record<string, unknown>): void;
    warn(message: string, extra: Record<string, unknown>): void;
  };
}

/** The reaction state machine's input: one reaction's window, and when it closes. */
export interface ReactionWindow {
  runId: string;
  reacting: string;
  targetAsg?: string;
  reaction: StoredReaction;
  windowStart: number;
  /** The window's end (ISO 8601), the Wait state's timestamp. */
  fireAt: string;
}

export interface ReactOutcome {
  /** Windows the change was added to (their run ids). */
  pending: string[];
  /** Reactions this change had set off already (a redelivery). */
  duplicate: string[];
  /** Reactions that ran for this host before its decommission (not again on its Node Terminated). */
  ranBefore: string[];
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

/** Windows tried for one change: its own, then (if that fired already) the one it arrived in, then the next. */
const PLACEMENTS = 3;

/**
 * Puts `host` in a window of the reaction: the window its change happened in, unless that one has
 * fired (the change arrived late), then the window of its arrival. Undefined for a redelivery.
 */
async function place(
  reacting: string,
  reaction: StoredReaction,
  host: string,
  at: number,
  deps: ReactDeps,
): Promise<number | undefined> {
  const firstStart = windowStart(at, deps.windowSec);
  let start = firstStart;
  for (let i = 0; i < PLACEMENTS; i++) {
    const runId = reactionRunId(reacting, reaction, start);
    const added = await deps.windows.add(runId, host, start + deps.windowSec);
    if (added.state === 'duplicate') return undefined;
    if (added.state === 'pending') {
      if (start !== firstStart) {
        await deps.windows.markMoved(reactionRunId(reacting, reaction, firstStart), host);
      }
      return start;
    }
    start = Math.max(windowStart(deps.now(), deps.windowSec), start + deps.windowSec);
  }
  // Only clocks far apart get here; EventBridge retries the event.
  throw new Error(`no open debounce window for ${host} after ${PLACEMENTS} tries`);
}

/** Starts the window's timer; the same name and input for every change of the window. */
async function startTimer(window: ReactionWindow, deps: ReactDeps): Promise<void> {
  try {
    await deps.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.reactionStateMachineArn,
        name: window.runId,
        input: JSON.stringify(window),
      }),
    );
  } catch (error: unknown) {
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
    // The window's timer exists with another input (the reaction's watched ASG changed within
    // the window: it fires with the first one, and this host is in its item), or it ended without
    // firing (its Fire step failed for good; the execution's history says why).
    deps.log.warn('reaction window timer not started: it exists already', { runId: window.runId });
  }
}

export async function react(event: BusEvent, deps: ReactDeps): Promise<ReactOutcome> {
  const outcome: ReactOutcome = { pending: [], duplicate: [], ranBefore: [] };
  const host = await changedHost(event, deps);
  if (!host) return outcome;
  const stamped = typeof event.detail.at === 'number' ? event.detail.at : Date.parse(event.time);
  // A change is never in a window that has not begun: a stamp from the future would hold the run back.
  const at = Math.min(Number.isFinite(stamped) ? stamped : deps.now(), deps.now());
  const nodeId = text(event.detail.nodeId);
  const who = text(event.detail.identity) ?? nodeId ?? 'unknown';
  const matches = matchingReactions(await deps.reactions(), host);
  if (matches.length === 0) return outcome;
  // A host decommissioned by its lifecycle hook had its terminated reactions run before that.
  const ranBefore = host.event === 'terminated' && nodeId ? await deps.windows.reacted(nodeId) : [];
  for (const { reacting, reaction, asg } of matches) {
    const label = reactionRunId(reacting, reaction, windowStart(at, deps.windowSec));
    if (ranBefore.includes(reactionKey(reacting, reaction))) {
      outcome.ranBefore.push(label);
      continue;
    }
    const start = await place(reacting, reaction, who, at, deps);
    if (start === undefined) {
      outcome.duplicate.push(label);
      continue;
    }
    const window: ReactionWindow = {
      runId: reactionRunId(reacting, reaction, start),
      reacting,
      ...(asg ? { targetAsg: asg } : {}),
      reaction,
      windowStart: start,
      fireAt: new Date((start + deps.windowSec) * 1000).toISOString(),
    };
    await startTimer(window, deps);
    outcome.pending.push(window.runId);
    deps.log.info('reaction pending', { runId: window.runId, host: who, fireAt: window.fireAt });
  }
  return outcome;
}
