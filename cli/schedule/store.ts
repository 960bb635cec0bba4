/**
 * The stage's schedules in EventBridge Scheduler: each is a schedule of the stage's group whose
 * templated Step Functions target is the stage's `run` state machine, started under the stage's
 * scheduler role with the run request as input. Scheduler errors become operator errors here.
 */
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  UpdateScheduleCommand,
  type GetScheduleCommandOutput,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { createSchedulerClient } from '#shared/aws.ts';
import { CliError } from '../errors.ts';
import type { ConnectedStack, StageSchedules } from '../stack.ts';
import { checkedInput, type ScheduleDefinition } from './definition.ts';

export interface StoredSchedule extends ScheduleDefinition {
  name: string;
  state: 'ENABLED' | 'DISABLED';
  createdAt?: Date;
  /** The schedule starts this stage's run machine (one edited by hand elsewhere might not). */
  targetsThisStage: boolean;
}

export class ScheduleStore {
  readonly #client: SchedulerClient;
  readonly #where: StageSchedules;

  constructor(private readonly conn: ConnectedStack) {
    if (!conn.schedules) {
      throw new CliError(
        conn.fromCache
          ? `stage ${conn.stage}'s cached outputs name no schedule group: run again with --refresh (or redeploy the stage if it predates schedules)`
          : `stage ${conn.stage} has no schedule group: redeploy it (npx sls deploy --stage ${conn.stage}) to add schedules`,
      );
    }
    this.#where = conn.schedules;
    this.#client = createSchedulerClient({
      region: conn.region,
      ...(conn.schedules.endpoint ? { endpoints: { scheduler: conn.schedules.endpoint } } : {}),
      ...(conn.local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    });
  }

  close(): void {
    this.#client.destroy();
  }

  #request(name: string, def: ScheduleDefinition, state: 'ENABLED' | 'DISABLED') {
    const command = def.input.command && 'shell' in def.input.command ? def.input.command.shell : '';
    return {
      Name: name,
      GroupName: this.#where.group,
      ScheduleExpression: def.expression,
      ScheduleExpressionTimezone: def.timeZone,
      FlexibleTimeWindow:
        def.windowMinutes === undefined
          ? { Mode: 'OFF' as const }
          : { Mode: 'FLEXIBLE' as const, MaximumWindowInMinutes: def.windowMinutes },
      State: state,
      Description: `drover: ${command}`.slice(0, 512),
      ActionAfterCompletion: 'NONE' as const,
      Target: {
        Arn: this.conn.runStateMachineArn,
        RoleArn: this.#where.roleArn,
        Input: JSON.stringify(def.input),
        // A fire that cannot start the run is retried for at most an hour, then dropped.
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 3 },
      },
    };
  }

  async create(name: string, def: ScheduleDefinition): Promise<void> {
    await this.#call(name, () =>
      this.#client.send(new CreateScheduleCommand(this.#request(name, def, 'ENABLED'))),
    );
  }

  async update(name: string, def: ScheduleDefinition, state: 'ENABLED' | 'DISABLED'): Promise<void> {
    await this.#call(name, () =>
      this.#client.send(new UpdateScheduleCommand(this.#request(name, def, state))),
    );
  }

  async delete(name: string): Promise<void> {
    await this.#call(name, () =>
      this.#client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.#where.group })),
    );
  }

  async get(name: string): Promise<StoredSchedule> {
    const out = await this.#call(name, () =>
      this.#client.send(new GetScheduleCommand({ Name: name, GroupName: this.#where.group })),
    );
    return this.#decode(out);
  }

  /** Names of the stage's schedules, in name order. */
  async names(): Promise<string[]> {
    const names: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.#client.send(
        new ListSchedulesCommand({ GroupName: this.#where.group, MaxResults: 100, NextToken }),
      );
      for (const s of page.Schedules ?? []) if (s.Name) names.push(s.Name);
      NextToken = page.NextToken;
    } while (NextToken);
    return names.sort();
  }

  #decode(out: GetScheduleCommandOutput): StoredSchedule {
    const name = out.Name ?? '';
    let input;
    try {
      input = checkedInput(out.Target?.Input ?? '');
    } catch (error: unknown) {
      throw new CliError(
        `schedule ${name} does not hold a drover run request (${error instanceof Error ? error.message : String(error)}); was it edited outside drover?`,
        4,
        { cause: error },
      );
    }
    return {
      name,
      state: out.State === 'DISABLED' ? 'DISABLED' : 'ENABLED',
      expression: out.ScheduleExpression ?? '',
      timeZone: out.ScheduleExpressionTimezone ?? 'UTC',
      ...(out.FlexibleTimeWindow?.Mode === 'FLEXIBLE'
        ? { windowMinutes: out.FlexibleTimeWindow.MaximumWindowInMinutes }
        : {}),
      input,
      ...(out.CreationDate ? { createdAt: out.CreationDate } : {}),
      targetsThisStage: out.Target?.Arn === this.conn.runStateMachineArn,
    };
  }

  async #call<T>(name: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error: unknown) {
      const kind = error instanceof Error ? error.name : '';
      const message = error instanceof Error ? error.message : String(error);
      if (kind === 'ResourceNotFoundException') {
        throw new CliError(
          `no schedule "${name}" on stage ${this.conn.stage} (drover schedule list shows them)`,
          4,
          { cause: error },
        );
      }
      if (kind === 'ConflictException') {
        throw new CliError(
          `a schedule "${name}" already exists on stage ${this.conn.stage}: change it with drover schedule update ${name}, or delete it first`,
          4,
          { cause: error },
        );
      }
      if (kind === 'ValidationException') {
        throw new CliError(`EventBridge Scheduler refused schedule "${name}": ${message}`, 4, {
          cause: error,
        });
      }
      throw error;
    }
  }
}
