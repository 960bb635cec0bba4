/** What a reply writes on its node item, as an UpdateItem SET expression. */
import { fitCapturedStreams, RESULT_OUTPUT_BUDGET_BYTES } from '#shared/output-fit.ts';
import type { RunReply } from './reply-transitions.ts';

/** The attributes a reply sets on its node item. */
export function replyFields(reply: RunReply, now: number): Record<string, unknown> {
  switch (reply.type) {
    case 'ack':
      return { ackedAt: now };
    case 'rejected':
      return { reason: reply.reason, resultAt: now };
    case 'result':
      return {
        exitCode: reply.exitCode,
        signal: reply.signal,
        timedOut: reply.timedOut,
        // Agents send results that fit; one that does not (another producer) is cut, not refused.
        ...fitCapturedStreams(reply.stdout, reply.stderr, RESULT_OUTPUT_BUDGET_BYTES),
        startedAt: reply.startedAt,
        endedAt: reply.endedAt,
        resultAt: now,
        ...(reply.error !== undefined ? { error: reply.error } : {}),
      };
  }
}

/** `SET #f0 = :f0, …` for the defined values, with their names and (unmarshalled) values. */
export function setExpression(values: Record<string, unknown>) {
  const entries = Object.entries(values).filter(([, v]) => v !== undefined);
  return {
    UpdateExpression: 'SET ' + entries.map((_, i) => `#f${i} = :f${i}`).join(', '),
    ExpressionAttributeNames: Object.fromEntries(entries.map(([k], i) => [`#f${i}`, k])) as Record<
      string,
      string
    >,
    values: Object.fromEntries(entries.map(([, v], i) => [`:f${i}`, v])) as Record<string, unknown>,
  };
}
