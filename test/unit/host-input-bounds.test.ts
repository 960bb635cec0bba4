/**
 * What a host says about itself is bounded before it is recorded: a heartbeat's facts may not nest
 * deeper than a DynamoDB item can hold (it would fail to record on every heartbeat and fill the
 * dead-letter queue), and node ids and identities have a length limit.
 */
import { describe, expect, it } from 'vitest';
import { MAX_FACTS_DEPTH, MAX_NAME_LENGTH, nestingDepth, replySchema } from '#shared/messages.ts';
import { ackReply, heartbeatReply } from '../helpers/factories.ts';

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) value = { level: value };
  return value;
}

describe('host input bounds', () => {
  it('measures nesting without recursion, even 100,000 levels deep', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(nestingDepth(deep)).toBe(100_000);
    expect(nestingDepth({ a: { b: [1, { c: 2 }] } })).toBe(4);
  });

  it('accepts facts up to the depth limit and refuses deeper ones, saying so', () => {
    expect(replySchema.safeParse(heartbeatReply({ facts: nested(MAX_FACTS_DEPTH) })).success).toBe(true);
    const deeper = replySchema.safeParse(heartbeatReply({ facts: nested(MAX_FACTS_DEPTH + 1) }));
    expect(deeper.success).toBe(false);
    expect(deeper.error?.issues[0]?.message).toBe(
      `facts nest ${MAX_FACTS_DEPTH + 1} levels deep, more than the ${MAX_FACTS_DEPTH} a host may have`,
    );
  });

  it('refuses node ids and identities longer than the limit', () => {
    const long = 'x'.repeat(MAX_NAME_LENGTH + 1);
    expect(replySchema.safeParse(ackReply({ nodeId: long })).success).toBe(false);
    expect(replySchema.safeParse(ackReply({ identity: long })).success).toBe(false);
    expect(replySchema.safeParse(ackReply({ nodeId: 'x'.repeat(MAX_NAME_LENGTH) })).success).toBe(true);
  });
});
