/**
 * What each `drover schedule` subcommand does, once its flags are parsed: everything is checked
 * before the first call to the Scheduler, and every answer says what happens next.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { newRunId } from '#shared/ids.ts';
import { nextFireTimes, parseScheduleExpression } from '#shared/schedule/expression.ts';
import { formatInZone } from '#shared/schedule/zoned-time.ts';
import { describeFilter } from '#shared/filter/describe.ts';
import { EXIT, callerName, type CommandContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { withStack, type ConnectedStack } from '../stack.ts';
import { ago, clip, columns } from '../output/format.ts';
import { commandText, recentRuns } from '../actions/runs.ts';
import {
  checkScheduleName,
  checkWhen,
  checkedInput,
  expressionOf,
  rollingWarning,
  scheduleRunInput,
  windowMinutes,
  type ScheduleDefinition,
  type ScheduleFlags,
} from './definition.ts';
import { ScheduleStore, type StoredSchedule } from './store.ts';
import type { ScheduleJson, SchedulesJson } from '../output/schemas.ts';

async function withSchedules<T>(
  ctx: CommandContext,
  work: (store: ScheduleStore, conn: ConnectedStack) => Promise<T>,
): Promise<T> {
  return withStack(ctx.stack, async (conn) => {
    const store = new ScheduleStore(conn);
    try {
      return await work(store, conn);
    } finally {
      store.close();
    }
  });
}

/** The next fire times (ms) after `now`; a rate counts from `start` (the schedule's creation). */
function nextFireInstants(def: ScheduleDefinition, now: number, count: number, start?: number): number[] {
  return nextFireTimes(parseScheduleExpression(def.expression), def.timeZone, now, count, start ?? now);
}

/** `2026-12-02 03:00 CET` lines of the next fire times. */
function nextFires(def: ScheduleDefinition, now: number, count: number, start?: number): string[] {
  return nextFireInstants(def, now, count, start).map((t) => formatInZone(t, def.timeZone));
}

function scheduleEntry(s: StoredSchedule, now: number): SchedulesJson['schedules'][number] {
  const [next] = s.state === 'ENABLED' ? nextFireInstants(s, now, 1, s.createdAt?.getTime()) : [];
  return {
    name: s.name,
    state: s.state === 'ENABLED' ? 'enabled' : 'paused',
    expression: s.expression,
    timeZone: s.timeZone,
    windowMinutes: s.windowMinutes ?? null,
    nextFireAt: next ?? null,
    command: s.input.command ?? null,
    filter: s.input.filter,
  };
}

const describeWhen = (def: ScheduleDefinition) =>
  `${def.expression} ${def.timeZone}${def.windowMinutes ? `, within ${def.windowMinutes} min` : ''}`;

export async function createSchedule(
  name: string,
  command: string,
  flags: ScheduleFlags,
  ctx: CommandContext,
) {
  checkScheduleName(name);
  const timeZone = flags.timezone ?? 'UTC';
  const expression = expressionOf(flags);
  checkWhen(expression, timeZone, Date.now());
  const def: ScheduleDefinition = {
    expression,
    timeZone,
    ...(flags.window !== undefined ? { windowMinutes: windowMinutes(flags.window) } : {}),
    input: scheduleRunInput(name, command, flags, callerName()),
  };
  const warning = rollingWarning(def.input);
  if (warning) ctx.io.err(warning);
  return withSchedules(ctx, async (store, conn) => {
    await store.create(name, def);
    // A rate schedule fires at once, then every period; the others at their next fire time.
    const [next] = def.expression.startsWith('rate(') ? ['now'] : nextFires(def, Date.now(), 1);
    ctx.io.err(
      `Created schedule ${name} on stage ${conn.stage}: ${describeWhen(def)}; ` +
        `${next ? `first run ${next}` : 'no fire time left'}. drover schedule show ${name} follows it.\n`,
    );
    return EXIT.ok;
  });
}

export async function updateSchedule(
  name: string,
  command: string | undefined,
  flags: ScheduleFlags,
  ctx: CommandContext,
) {
  return withSchedules(ctx, async (store) => {
    const current = await store.get(name);
    const when = flags.cron ?? flags.rate ?? flags.at;
    const expression = when === undefined ? current.expression : expressionOf(flags);
    const timeZone = flags.timezone ?? current.timeZone;
    checkWhen(expression, timeZone, Date.now());
    const window = flags.window === undefined ? current.windowMinutes : windowMinutes(flags.window);
    const def: ScheduleDefinition = {
      expression,
      timeZone,
      ...(window !== undefined ? { windowMinutes: window } : {}),
      input: updatedInput(name, current, command, flags),
    };
    const warning = rollingWarning(def.input);
    if (warning) ctx.io.err(warning);
    await store.update(name, def, current.state);
    ctx.io.err(
      `Updated schedule ${name}: ${describeWhen(def)}${current.state === 'DISABLED' ? ' (paused)' : ''}.\n`,
    );
    return EXIT.ok;
  });
}

/** The stored run request with what the flags change: a filter flag replaces the whole filter. */
function updatedInput(
  name: string,
  current: StoredSchedule,
  command: string | undefined,
  flags: ScheduleFlags,
) {
  const old = current.input;
  const filterGiven = [flags.with, flags.wf, flags.wc, flags.wi, flags.select].some((f) => f !== undefined);
  const o = old.options;
  const merged: ScheduleFlags = {
    ...(filterGiven
      ? flags
      : {
          with: old.filter.with,
          wf: old.filter.fact,
          wc: old.filter.class,
          wi: old.filter.identity,
          select: old.filter.select,
        }),
    timeout: flags.timeout ?? o.timeoutSec,
    dt: flags.dt ?? o.discoveryTimeoutSec,
    ttl: flags.ttl ?? o.ttlSec,
    batch: flags.batch ?? o.batchSize,
    batchSleep: flags.batchSleep ?? o.batchSleepSec,
    maxErrors: flags.maxErrors ?? o.maxErrors,
    limit: flags.limit ?? o.limit,
    allowOverlap: flags.allowOverlap ?? old.schedule?.allowOverlap,
  };
  const text = command ?? (old.command && 'shell' in old.command ? old.command.shell : undefined);
  if (text === undefined) throw new CliError(`schedule ${name} has no shell command to keep: give one`);
  return scheduleRunInput(name, text, merged, callerName());
}

export async function listSchedules(flags: { json?: boolean }, ctx: CommandContext) {
  return withSchedules(ctx, async (store, conn) => {
    const names = await store.names();
    if (flags.json) {
      const schedules = [];
      for (const name of names) schedules.push(scheduleEntry(await store.get(name), Date.now()));
      const doc: SchedulesJson = { schedules };
      ctx.io.out(JSON.stringify(doc, null, 2) + '\n');
      return names.length > 0 ? EXIT.ok : EXIT.noMatch;
    }
    if (names.length === 0) {
      ctx.io.err(
        `No schedules on stage ${conn.stage}; drover schedule create --help shows how to make one.\n`,
      );
      return EXIT.noMatch;
    }
    const rows = [['NAME', 'STATE', 'WHEN', 'NEXT', 'COMMAND', 'FILTER']];
    const now = Date.now();
    for (const name of names) {
      const s = await store.get(name);
      const [next] = s.state === 'ENABLED' ? nextFires(s, now, 1, s.createdAt?.getTime()) : [];
      rows.push([
        name,
        s.state === 'ENABLED' ? 'enabled' : 'paused',
        `${s.expression} ${s.timeZone}`,
        next ?? '-',
        clip(commandText({ action: s.input.action, command: s.input.command }), 40),
        clip(describeFilter(s.input.filter), 30),
      ]);
    }
    ctx.io.out(columns(rows) + '\n');
    return EXIT.ok;
  });
}

export async function showSchedule(name: string, flags: { json?: boolean }, ctx: CommandContext) {
  return withSchedules(ctx, async (store, conn) => {
    const s = await store.get(name);
    if (flags.json) {
      const now = Date.now();
      const runs = await recentRuns(conn, { limit: 10, schedule: name });
      const doc: ScheduleJson = {
        ...scheduleEntry(s, now),
        stage: conn.stage,
        allowOverlap: s.input.schedule?.allowOverlap ?? false,
        options: { ...s.input.options },
        nextFireTimes: s.state === 'ENABLED' ? nextFireInstants(s, now, 5, s.createdAt?.getTime()) : [],
        failureEvent: 'Run Failed',
        runs: runs.map((r) => ({
          runId: r.runId,
          status: r.status,
          createdAt: r.createdAt,
          finishedAt: r.finishedAt ?? null,
          exitCode: r.summary?.exitCode ?? null,
        })),
      };
      ctx.io.out(JSON.stringify(doc, null, 2) + '\n');
      return EXIT.ok;
    }
    const o = s.input.options;
    const lines = [
      `Schedule:   ${name} (stage ${conn.stage}, ${s.state === 'ENABLED' ? 'enabled' : 'paused'})`,
      `When:       ${describeWhen(s)}`,
      `Command:    ${commandText({ action: s.input.action, command: s.input.command })}`,
      `Filter:     ${describeFilter(s.input.filter)}`,
      `Options:    timeout ${o.timeoutSec} s, discovery ${o.discoveryTimeoutSec} s` +
        (o.batchSize !== undefined ? `, batches of ${o.batchSize}, ${o.batchSleepSec} s apart` : '') +
        (o.maxErrors !== undefined ? `, stop after ${o.maxErrors} failed` : '') +
        (o.limit !== undefined ? `, limit ${o.limit}` : ''),
      `Overlap:    ${s.input.schedule?.allowOverlap ? 'allowed' : 'a fire while the previous run is still going is skipped (Scheduled Run Skipped)'}`,
      `On failure: a run that ends failed, in error or invalid emits "Run Failed" (detail.schedule = "${name}") on the stage's event bus`,
    ];
    if (!s.targetsThisStage)
      lines.push(`Warning:    this schedule does not start stage ${conn.stage}'s run state machine`);
    const next = s.state === 'ENABLED' ? nextFires(s, Date.now(), 5, s.createdAt?.getTime()) : [];
    lines.push(
      '',
      `Next fire times (${s.timeZone}):`,
      ...(next.length ? next.map((t) => `  ${t}`) : ['  none']),
    );
    const runs = await recentRuns(conn, { limit: 10, schedule: name });
    lines.push('', 'Last runs:');
    if (runs.length === 0) lines.push('  none yet');
    const now = Date.now();
    for (const run of runs) {
      const s2 = run.summary;
      const outcome = s2 ? `exit ${s2.exitCode}, ${s2.succeeded}/${s2.expected} ok` : '';
      lines.push(`  ${run.runId}  ${ago(now - run.createdAt).padEnd(8)} ${run.status.padEnd(9)} ${outcome}`);
    }
    ctx.io.out(lines.join('\n') + '\n');
    return EXIT.ok;
  });
}

export async function setScheduleState(name: string, state: 'ENABLED' | 'DISABLED', ctx: CommandContext) {
  return withSchedules(ctx, async (store) => {
    const current = await store.get(name);
    await store.update(name, current, state);
    ctx.io.err(
      state === 'DISABLED'
        ? `Paused schedule ${name}: it fires no more until drover schedule resume ${name} (a run already going finishes).\n`
        : `Resumed schedule ${name}: ${describeWhen(current)}.\n`,
    );
    return EXIT.ok;
  });
}

export async function deleteSchedule(name: string, ctx: CommandContext) {
  return withSchedules(ctx, async (store) => {
    await store.delete(name);
    ctx.io.err(
      `Deleted schedule ${name}; a run it started that is still going finishes (drover runs --schedule ${name}).\n`,
    );
    return EXIT.ok;
  });
}

/** Starts the schedule's run now, as a fire would (same input, a new run id). */
export async function runScheduleNow(name: string, ctx: CommandContext) {
  return withSchedules(ctx, async (store, conn) => {
    const s = await store.get(name);
    const runId = newRunId();
    const input = checkedInput(s.input);
    await conn.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: conn.runStateMachineArn,
        name: runId,
        input: JSON.stringify(input),
      }),
    );
    ctx.io.out(`${runId}\n`);
    ctx.io.err(`Started run ${runId} of schedule ${name}; drover show ${runId} follows it.\n`);
    return EXIT.ok;
  });
}
