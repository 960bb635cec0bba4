/**
 * EventBridge Scheduler on one machine: the schedules of the API subset drover uses, validated as
 * the service validates them (scheduler-validation.ts), and fired into the local Step Functions
 * the way a templated Step Functions target does (StartExecution with the schedule's input, under
 * the schedule's role, which may only start what its policy allows). Time comes from an
 * injectable clock and `tick()`: the stack ticks every second; tests move the clock and tick.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { newRunId } from '#shared/ids.ts';
import {
  nextFireTimes,
  parseScheduleExpression,
  type ScheduleExpression,
} from '#shared/schedule/expression.ts';
import {
  SchedulerApiError,
  checkListInput,
  checkScheduleInput,
  type ScheduleInput,
} from './scheduler-validation.ts';

export interface Schedule extends ScheduleInput {
  Arn: string;
  GroupName: string;
  State: 'ENABLED' | 'DISABLED';
  ScheduleExpressionTimezone: string;
  CreationDate: number;
  LastModificationDate: number;
}

interface Entry {
  schedule: Schedule;
  expression: ScheduleExpression;
  /** The next nominal fire time and when, inside the flexible window, it is delivered. */
  next?: { scheduled: number; due: number };
}

export interface FireRecord {
  schedule: string;
  group: string;
  scheduledTime: number;
  firedAt: number;
  executionName: string;
  /** Set when the target refused the call (the role may not start that machine, …). */
  error?: string;
}

export interface SchedulerOptions {
  region: string;
  account: string;
  /** Schedule groups that exist besides `default` (the stack's group). */
  groups: string[];
  /** What each role may start: role ARN → state machine ARNs its policy allows. */
  rolePolicies: Record<string, string[]>;
  /** StartExecution on the local Step Functions; throws its API error when refused. */
  startExecution: (stateMachineArn: string, name: string, input: string) => void;
  now?: () => number;
  /** Random source in [0, 1) for the flexible time window; tests fix it. */
  random?: () => number;
  /** Keeps schedules across restarts of the local stack. */
  stateFile?: string;
  onError?: (error: unknown) => void;
}

/** Fires missed while the clock jumped are delivered one by one, up to this many per schedule per tick. */
const MAX_FIRES_PER_TICK = 100;

export class LocalScheduler {
  readonly fires: FireRecord[] = [];
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #random: () => number;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SchedulerOptions) {
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#load();
  }

  create(input: ScheduleInput): { ScheduleArn: string } {
    const group = this.#group(input.GroupName);
    const key = `${group}/${input.Name}`;
    const expression = checkScheduleInput(input);
    const existing = this.#entries.get(key)?.schedule;
    if (existing) {
      // The SDK sends an idempotency token: its own retry of a create that went through succeeds.
      if (input.ClientToken !== undefined && existing.ClientToken === input.ClientToken) {
        return { ScheduleArn: existing.Arn };
      }
      throw new SchedulerApiError('ConflictException', `Schedule ${input.Name} already exists.`);
    }
    const now = this.#now();
    const schedule = this.#schedule(input, group, now, now);
    this.#entries.set(key, this.#plan({ schedule, expression }, now - 1));
    this.#save();
    return { ScheduleArn: schedule.Arn };
  }

  get(name: string, groupName?: string): Omit<Schedule, 'ClientToken'> {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- GetSchedule does not return the token
    const { ClientToken, ...schedule } = structuredClone(this.#entry(name, groupName).schedule);
    return schedule;
  }

  update(input: ScheduleInput): { ScheduleArn: string } {
    const entry = this.#entry(input.Name, input.GroupName);
    const expression = checkScheduleInput(input);
    const now = this.#now();
    // UpdateSchedule replaces the whole definition: what the request leaves out goes to its default.
    const schedule = this.#schedule(input, entry.schedule.GroupName, entry.schedule.CreationDate, now);
    this.#entries.set(`${schedule.GroupName}/${schedule.Name}`, this.#plan({ schedule, expression }, now));
    this.#save();
    return { ScheduleArn: schedule.Arn };
  }

  delete(name: string, groupName?: string): void {
    const entry = this.#entry(name, groupName);
    this.#entries.delete(`${entry.schedule.GroupName}/${name}`);
    this.#save();
  }

  list(query: {
    ScheduleGroup?: string;
    NamePrefix?: string;
    State?: string;
    MaxResults?: string;
    NextToken?: string;
  }) {
    const { max, start } = checkListInput(query);
    const all = [...this.#entries.values()]
      .map((e) => e.schedule)
      .filter((s) => query.ScheduleGroup === undefined || s.GroupName === query.ScheduleGroup)
      .filter((s) => query.NamePrefix === undefined || s.Name.startsWith(query.NamePrefix))
      .filter((s) => query.State === undefined || s.State === query.State)
      .sort((a, b) => (a.GroupName + a.Name).localeCompare(b.GroupName + b.Name));
    const page = all.slice(start, start + max);
    return {
      Schedules: page.map((s) => ({
        Arn: s.Arn,
        Name: s.Name,
        GroupName: s.GroupName,
        State: s.State,
        CreationDate: s.CreationDate,
        LastModificationDate: s.LastModificationDate,
        Target: { Arn: s.Target.Arn },
      })),
      ...(start + max < all.length ? { NextToken: String(start + max) } : {}),
    };
  }

  /** Fires every enabled schedule whose delivery time has come (by the injected clock). */
  tick(): FireRecord[] {
    const now = this.#now();
    const fired: FireRecord[] = [];
    for (const [key, entry] of this.#entries) {
      for (let i = 0; i < MAX_FIRES_PER_TICK && entry.next && entry.next.due <= now; i++) {
        if (entry.schedule.State !== 'ENABLED') break;
        fired.push(this.#fire(entry, entry.next.scheduled, now));
        this.#plan(entry, entry.next.scheduled);
      }
      if (
        !entry.next &&
        entry.expression.kind === 'at' &&
        entry.schedule.ActionAfterCompletion === 'DELETE'
      ) {
        this.#entries.delete(key);
      }
    }
    if (fired.length > 0) this.#save();
    return fired;
  }

  /** Ticks every `intervalMs` until stop() (the local stack's clock is the real one). */
  start(intervalMs = 1_000): void {
    this.#timer = setInterval(() => {
      try {
        this.tick();
      } catch (error: unknown) {
        this.options.onError?.(error);
      }
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #fire(entry: Entry, scheduledTime: number, now: number): FireRecord {
    const { schedule } = entry;
    const executionName = newRunId(now);
    const record: FireRecord = {
      schedule: schedule.Name,
      group: schedule.GroupName,
      scheduledTime,
      firedAt: now,
      executionName,
    };
    try {
      const allowed = this.options.rolePolicies[schedule.Target.RoleArn] ?? [];
      if (!allowed.includes(schedule.Target.Arn)) {
        throw new SchedulerApiError(
          'AccessDeniedException',
          `${schedule.Target.RoleArn} is not authorized to perform states:StartExecution on ${schedule.Target.Arn}`,
        );
      }
      this.options.startExecution(schedule.Target.Arn, executionName, schedule.Target.Input ?? '{}');
    } catch (error: unknown) {
      // In AWS a refused invocation is retried, then dropped (or dead-lettered): the schedule goes on.
      record.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      this.options.onError?.(error);
    }
    this.fires.push(record);
    if (this.fires.length > 1_000) this.fires.shift();
    return record;
  }

  /** Sets the entry's next fire strictly after `after`, within StartDate/EndDate, delayed inside the window. */
  #plan(entry: Entry, after: number): Entry {
    const { schedule, expression } = entry;
    const start = schedule.StartDate !== undefined ? schedule.StartDate * 1000 : schedule.CreationDate * 1000;
    const from = expression.kind === 'at' ? after : Math.max(after, start - 1);
    const [scheduled] = nextFireTimes(expression, schedule.ScheduleExpressionTimezone, from, 1, start);
    const end = schedule.EndDate !== undefined ? schedule.EndDate * 1000 : Infinity;
    if (scheduled === undefined || (expression.kind !== 'at' && scheduled >= end)) {
      entry.next = undefined;
      return entry;
    }
    const window =
      schedule.FlexibleTimeWindow.Mode === 'FLEXIBLE'
        ? (schedule.FlexibleTimeWindow.MaximumWindowInMinutes ?? 0)
        : 0;
    entry.next = { scheduled, due: scheduled + Math.floor(this.#random() * window * 60_000) };
    return entry;
  }

  #schedule(input: ScheduleInput, group: string, created: number, modified: number): Schedule {
    const { region, account } = this.options;
    return {
      ...structuredClone(input),
      Arn: `arn:aws:scheduler:${region}:${account}:schedule/${group}/${input.Name}`,
      GroupName: group,
      State: input.State ?? 'ENABLED',
      ScheduleExpressionTimezone: input.ScheduleExpressionTimezone ?? 'UTC',
      ActionAfterCompletion: input.ActionAfterCompletion ?? 'NONE',
      CreationDate: created / 1000,
      LastModificationDate: modified / 1000,
    };
  }

  #group(name: string | undefined): string {
    const group = name ?? 'default';
    if (group !== 'default' && !this.options.groups.includes(group)) {
      throw new SchedulerApiError('ResourceNotFoundException', `Schedule group ${group} does not exist.`);
    }
    return group;
  }

  #entry(name: string, groupName: string | undefined): Entry {
    const entry = this.#entries.get(`${this.#group(groupName)}/${name}`);
    if (!entry) throw new SchedulerApiError('ResourceNotFoundException', `Schedule ${name} does not exist.`);
    return entry;
  }

  #save(): void {
    if (!this.options.stateFile) return;
    const schedules = [...this.#entries.values()].map((e) => e.schedule);
    writeFileSync(this.options.stateFile, JSON.stringify({ schedules }, null, 2) + '\n');
  }

  #load(): void {
    const file = this.options.stateFile;
    if (!file || !existsSync(file)) return;
    const { schedules } = JSON.parse(readFileSync(file, 'utf8')) as { schedules: Schedule[] };
    const now = this.#now();
    for (const schedule of schedules) {
      try {
        this.#group(schedule.GroupName);
        const expression = parseScheduleExpression(schedule.ScheduleExpression);
        this.#entries.set(
          `${schedule.GroupName}/${schedule.Name}`,
          this.#plan({ schedule, expression }, now),
        );
      } catch (error: unknown) {
        this.options.onError?.(error);
      }
    }
  }
}
