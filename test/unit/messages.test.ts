import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  describeZodError,
  factsSize,
  MAX_FACTS_BYTES,
  replySchema,
  runRequestSchema,
  type RunRequestInput,
} from '#shared/messages.ts';
import { ackReply, heartbeatReply, rejectedReply, resultReply } from '../helpers/factories.ts';

const RUN_ID = '01HZY8J9K2M3N4P5Q6R7S8T9VW';

function runRequestInput(overrides: Record<string, unknown> = {}): RunRequestInput {
  return { runId: RUN_ID, command: { shell: 'uptime' }, ...overrides } as RunRequestInput;
}

/** The `path: message` lines of a failed parse, for asserting on what was rejected. */
function problemsOf(schema: z.ZodType, input: unknown): string {
  const parsed = schema.safeParse(input);
  if (parsed.success) throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
  return describeZodError(parsed.error);
}

describe('runRequestSchema', () => {
  it('fills in the documented defaults for a minimal exec request', () => {
    // Prepare
    const input = runRequestInput();

    // Act
    const request = runRequestSchema.parse(input);

    // Assess
    expect(request).toEqual({
      runId: RUN_ID,
      action: 'exec',
      command: { shell: 'uptime' },
      filter: { with: [], fact: [], class: [], identity: [] },
      options: { timeoutSec: 60, discoveryTimeoutSec: 10, batchSleepSec: 0, staleAfterHeartbeats: 3 },
      caller: 'unknown',
    });
  });

  it('fills in option defaults beside the options that were given', () => {
    const request = runRequestSchema.parse(runRequestInput({ options: { timeoutSec: 5, limit: 2 } }));

    expect(request.options).toEqual({
      timeoutSec: 5,
      limit: 2,
      discoveryTimeoutSec: 10,
      batchSleepSec: 0,
      staleAfterHeartbeats: 3,
    });
  });

  it('accepts a ping without a command', () => {
    const request = runRequestSchema.parse({ runId: RUN_ID, action: 'ping' });

    expect(request.action).toBe('ping');
    expect(request.command).toBeUndefined();
  });

  it('accepts a command given as argv', () => {
    const request = runRequestSchema.parse(runRequestInput({ command: { argv: ['ls', '-l'] } }));

    expect(request.command).toEqual({ argv: ['ls', '-l'] });
  });

  it.each([
    ['empty', ''],
    ['with a space', 'nightly restart'],
    ['with a slash', 'runs/1'],
    ['longer than 80 characters', 'r'.repeat(81)],
  ])('rejects a runId that is not an execution name (%s)', (_, runId) => {
    expect(problemsOf(runRequestSchema, runRequestInput({ runId }))).toBe(
      'runId: a run id is an execution name: 1 to 80 letters, digits, "-" or "_"',
    );
  });

  it.each([
    ['a ULID (the CLI)', RUN_ID],
    ['a UUID (a name Step Functions made)', '0f8fad5b-d9cb-469f-a165-70867728950e'],
    ['80 characters', 'r'.repeat(80)],
  ])('accepts a runId that is an execution name: %s', (_, runId) => {
    expect(runRequestSchema.safeParse(runRequestInput({ runId })).success).toBe(true);
  });

  it('rejects an exec request without a command', () => {
    expect(problemsOf(runRequestSchema, { runId: RUN_ID, action: 'exec' })).toBe(
      'command: an exec request needs a command',
    );
  });

  it('rejects an exec request without a command when the action is left to its default', () => {
    expect(problemsOf(runRequestSchema, { runId: RUN_ID })).toBe('command: an exec request needs a command');
  });

  it('rejects an empty shell command', () => {
    expect(problemsOf(runRequestSchema, runRequestInput({ command: { shell: '' } }))).toMatch(/^command/);
    expect(commandProblems({ shell: '' })).toContain('command is empty');
  });

  it('rejects an empty argv', () => {
    expect(commandProblems({ argv: [] })).toContain('argv is empty');
  });

  it('rejects a command that is both shell and argv', () => {
    expect(
      runRequestSchema.safeParse(runRequestInput({ command: { shell: 'ls', argv: ['ls'] } })).success,
    ).toBe(false);
  });

  it.each([
    ['the request', { extra: true }, 'Unrecognized key: "extra"'],
    ['the options', { options: { timeout: 5 } }, 'options: Unrecognized key: "timeout"'],
    ['the filter', { filter: { facts: ['role=web'] } }, 'filter: Unrecognized key: "facts"'],
  ])('rejects an unknown key in %s', (_, overrides, problem) => {
    expect(problemsOf(runRequestSchema, runRequestInput(overrides))).toBe(problem);
  });

  it.each([
    ['timeoutSec', 0],
    ['timeoutSec', 86_401],
    ['timeoutSec', 1.5],
    ['discoveryTimeoutSec', 3_601],
    ['batchSize', 0],
    ['batchSleepSec', -1],
    ['staleAfterHeartbeats', 0],
  ])('rejects options.%s = %s', (option, value) => {
    expect(problemsOf(runRequestSchema, runRequestInput({ options: { [option]: value } }))).toMatch(
      new RegExp(`^options\\.${option}: `),
    );
  });

  it('rejects an unknown action', () => {
    expect(problemsOf(runRequestSchema, runRequestInput({ action: 'facts' }))).toMatch(/^action: /);
  });
});

/** Every problem message of a request whose command is `command`, including union branches. */
function commandProblems(command: unknown): string {
  const parsed = runRequestSchema.safeParse(runRequestInput({ command }));
  if (parsed.success) throw new Error(`expected command ${JSON.stringify(command)} to be rejected`);
  return JSON.stringify(parsed.error.issues);
}

describe('replySchema', () => {
  it.each([
    ['ack', ackReply()],
    ['result', resultReply()],
    ['heartbeat', heartbeatReply()],
    ['rejected', rejectedReply()],
  ])('accepts a %s reply as built by the factories', (type, reply) => {
    const parsed = replySchema.parse(reply);

    expect(parsed.type).toBe(type);
    expect(parsed).toEqual(reply);
  });

  it('accepts a result of a process killed by a signal (no exit code)', () => {
    const reply = resultReply({ exitCode: null, signal: 'SIGKILL', timedOut: true });

    expect(replySchema.parse(reply)).toEqual(reply);
  });

  it('rejects a message of another version', () => {
    expect(problemsOf(replySchema, { ...ackReply(), v: 2 })).toMatch(/^v: /);
  });

  it.each([
    ['ack', 'runId', ackReply()],
    ['ack', 'nodeId', ackReply()],
    ['result', 'stdout', resultReply()],
    ['result', 'exitCode', resultReply()],
    ['heartbeat', 'inbox', heartbeatReply()],
    ['rejected', 'reason', rejectedReply()],
  ])('rejects a %s reply without %s', (_, field, reply) => {
    const { [field]: _removed, ...incomplete } = reply as Record<string, unknown>;

    expect(problemsOf(replySchema, incomplete)).toMatch(new RegExp(`^${field}: `));
  });

  it('rejects a heartbeat whose facts are too large for a host record, saying how large', () => {
    const reply = heartbeatReply({ facts: { role: 'web', blob: 'x'.repeat(MAX_FACTS_BYTES) } });
    const size = factsSize(reply.facts, reply.classes);

    expect(problemsOf(replySchema, reply)).toBe(
      `facts: facts and classes take ${size} bytes as JSON, more than the ${MAX_FACTS_BYTES} a host may have`,
    );
  });

  it('accepts a heartbeat whose facts and classes take exactly the limit', () => {
    const base = heartbeatReply({ facts: { blob: '' }, classes: [] });
    const facts = { blob: 'x'.repeat(MAX_FACTS_BYTES - factsSize(base.facts, base.classes)) };

    expect(factsSize(facts, [])).toBe(MAX_FACTS_BYTES);
    expect(replySchema.parse({ ...base, facts })).toMatchObject({ type: 'heartbeat' });
  });

  it('rejects an unknown reply type', () => {
    expect(problemsOf(replySchema, { ...ackReply(), type: 'nack' })).toMatch(/^type: /);
  });

  it('rejects a reply with an unknown key', () => {
    expect(problemsOf(replySchema, { ...ackReply(), status: 'ok' })).toMatch(/Unrecognized key.*status/);
  });

  it('rejects a negative byte count in captured output', () => {
    const reply = resultReply({ stdout: { text: '', bytes: -1, truncated: false } });

    expect(problemsOf(replySchema, reply)).toMatch(/^stdout\.bytes: /);
  });
});

describe('describeZodError', () => {
  it('names the dotted path of each problem and joins problems with "; "', () => {
    const parsed = runRequestSchema.safeParse({
      runId: 'no pe',
      command: { shell: 'true' },
      options: { timeoutSec: 0, limit: 'all' },
    });
    if (parsed.success) throw new Error('expected the request to be rejected');

    const described = describeZodError(parsed.error);

    const lines = described.split('; ');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('runId: a run id is an execution name: 1 to 80 letters, digits, "-" or "_"');
    expect(lines[1]).toMatch(/^options\.timeoutSec: /);
    expect(lines[2]).toBe('options.limit: a percentage is written like "25%" (0–100)');
  });

  it('names array indices in the path', () => {
    expect(problemsOf(runRequestSchema, runRequestInput({ options: { nodes: ['web-1', ''] } }))).toMatch(
      /^options\.nodes\.1: /,
    );
  });

  it('gives the bare message of a problem with the whole input', () => {
    const parsed = replySchema.safeParse('not an object');
    if (parsed.success) throw new Error('expected a string to be rejected');

    const described = describeZodError(parsed.error);

    expect(described).toBe(parsed.error.issues[0]!.message);
    expect(described).not.toMatch(/^: /);
  });
});
