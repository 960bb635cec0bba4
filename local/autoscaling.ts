/**
 * Auto Scaling on one machine: groups whose instances are demo agents, drover's lifecycle hooks on
 * them, and the lifecycle actions those hooks hold open. Answers the calls drover makes
 * (PutLifecycleHook, DeleteLifecycleHook, DescribeLifecycleHooks, CompleteLifecycleAction,
 * RecordLifecycleActionHeartbeat, DescribeAutoScalingGroups, SetDesiredCapacity) with AWS's
 * validations and error codes, and emits the events AWS emits: lifecycle actions from
 * `aws.autoscaling` and instance state changes from `aws.ec2`, on the default bus.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AutoScalingApiError as ApiError, list, type XmlValue } from './autoscaling-xml.ts';
import { checkActionParameters } from './autoscaling-validation.ts';

export { AutoScalingApiError } from './autoscaling-xml.ts';

const LAUNCH = 'autoscaling:EC2_INSTANCE_LAUNCHING';
const TERMINATE = 'autoscaling:EC2_INSTANCE_TERMINATING';
/** AWS: hooks per group. */
const MAX_HOOKS = 50;
const HOOK_NAME = /^[A-Za-z0-9\-_/]{1,255}$/;

export interface LocalInstance {
  id: string;
  group: string;
  state: 'Pending:Wait' | 'InService' | 'Terminating:Wait' | 'Terminated';
  launchedAt: number;
}

interface Hook {
  name: string;
  transition: string;
  heartbeatSec: number;
  defaultResult: 'CONTINUE' | 'ABANDON';
}

interface Action {
  token: string;
  group: string;
  hook: Hook;
  instance: LocalInstance;
  globalDeadline: number;
  timer: NodeJS.Timeout;
}

interface Group {
  name: string;
  min: number;
  max: number;
  instances: LocalInstance[];
  hooks: Map<string, Hook>;
}

/** What the emulator needs from the stack: start and stop the instance's agent, publish events. */
export interface InstanceHost {
  start(instance: LocalInstance): void;
  stop(instance: LocalInstance): void;
  publish(entry: { Source: string; DetailType: string; Detail: string; EventBusName: string }): void;
}

const instanceId = (): string => `i-${randomBytes(9).toString('hex').slice(0, 17)}`;

function required(params: Map<string, string>, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === '') {
    throw new ApiError(
      'ValidationError',
      `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

export class LocalAutoScaling {
  readonly #groups = new Map<string, Group>();
  readonly #actions = new Map<string, Action>();

  constructor(private readonly host: InstanceHost) {}

  createGroup(name: string, min = 0, max = 20): void {
    if (!this.#groups.has(name)) this.#groups.set(name, { name, min, max, instances: [], hooks: new Map() });
  }

  /** Every pending action's timer, for the stack's shutdown. */
  stop(): void {
    for (const action of this.#actions.values()) clearTimeout(action.timer);
    this.#actions.clear();
  }

  instances(group: string): LocalInstance[] {
    return this.#group(group).instances.filter((i) => i.state !== 'Terminated');
  }

  /** Runs one API call; returns its result members. */
  call(action: string, params: Map<string, string>): Record<string, XmlValue> {
    switch (action) {
      case 'PutLifecycleHook':
        return this.#putHook(params);
      case 'DeleteLifecycleHook': {
        const group = this.#group(required(params, 'AutoScalingGroupName'));
        const name = required(params, 'LifecycleHookName');
        if (!group.hooks.delete(name))
          throw new ApiError('ValidationError', `Lifecycle hook not found: ${name}`);
        return {};
      }
      case 'DescribeLifecycleHooks': {
        const group = this.#group(required(params, 'AutoScalingGroupName'));
        const names = list(params, 'LifecycleHookNames');
        const hooks = [...group.hooks.values()].filter((h) => names.length === 0 || names.includes(h.name));
        return {
          LifecycleHooks: hooks.map((h) => ({
            LifecycleHookName: h.name,
            AutoScalingGroupName: group.name,
            LifecycleTransition: h.transition,
            HeartbeatTimeout: h.heartbeatSec,
            GlobalTimeout: Math.min(172_800, 100 * h.heartbeatSec),
            DefaultResult: h.defaultResult,
          })),
        };
      }
      case 'CompleteLifecycleAction':
        this.#complete(this.#findAction(params), required(params, 'LifecycleActionResult'));
        return {};
      case 'RecordLifecycleActionHeartbeat':
        this.#heartbeat(this.#findAction(params));
        return {};
      case 'DescribeAutoScalingGroups':
        return { AutoScalingGroups: this.#describeGroups(list(params, 'AutoScalingGroupNames')) };
      case 'SetDesiredCapacity':
        this.setDesiredCapacity(
          required(params, 'AutoScalingGroupName'),
          Number(required(params, 'DesiredCapacity')),
        );
        return {};
      default:
        throw new ApiError('InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  /** Launches or terminates instances until the group has `desired` (newest terminate first). */
  setDesiredCapacity(name: string, desired: number): void {
    const group = this.#group(name);
    if (!Number.isInteger(desired) || desired < group.min || desired > group.max) {
      throw new ApiError(
        'ValidationError',
        `New SetDesiredCapacity value ${desired} is ${desired > group.max ? `above max value ${group.max}` : `below min value ${group.min}`} for the AutoScalingGroup.`,
      );
    }
    const live = group.instances.filter((i) => i.state === 'InService' || i.state === 'Pending:Wait');
    for (let n = live.length; n < desired; n++) this.#launch(group);
    const leaving = live
      .sort((a, b) => b.launchedAt - a.launchedAt)
      .slice(0, Math.max(0, live.length - desired));
    for (const instance of leaving) this.#terminate(group, instance);
  }

  #group(name: string): Group {
    const group = this.#groups.get(name);
    if (!group)
      throw new ApiError(
        'ValidationError',
        `AutoScalingGroup name not found - AutoScalingGroup ${name} not found`,
      );
    return group;
  }

  #putHook(params: Map<string, string>): Record<string, XmlValue> {
    const group = this.#group(required(params, 'AutoScalingGroupName'));
    const name = required(params, 'LifecycleHookName');
    if (!HOOK_NAME.test(name)) {
      throw new ApiError(
        'ValidationError',
        `Value '${name}' at 'lifecycleHookName' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9\\-_\\/]+`,
      );
    }
    const existing = group.hooks.get(name);
    const transition = params.get('LifecycleTransition') ?? existing?.transition;
    if (transition !== LAUNCH && transition !== TERMINATE) {
      throw new ApiError('ValidationError', `Invalid Lifecycle Transition: ${transition ?? 'null'}`);
    }
    const heartbeatSec = Number(params.get('HeartbeatTimeout') ?? existing?.heartbeatSec ?? 3600);
    if (!Number.isInteger(heartbeatSec) || heartbeatSec < 30 || heartbeatSec > 7200) {
      throw new ApiError(
        'ValidationError',
        `Heartbeat timeout must be between 30 and 7200 seconds, got ${heartbeatSec}`,
      );
    }
    const defaultResult = params.get('DefaultResult') ?? existing?.defaultResult ?? 'ABANDON';
    if (defaultResult !== 'CONTINUE' && defaultResult !== 'ABANDON') {
      throw new ApiError(
        'ValidationError',
        `Valid values for DefaultResult are CONTINUE and ABANDON, got ${defaultResult}`,
      );
    }
    if (!existing && group.hooks.size >= MAX_HOOKS) {
      throw new ApiError(
        'LimitExceeded',
        `Limit of ${MAX_HOOKS} lifecycle hooks per Auto Scaling group exceeded`,
      );
    }
    group.hooks.set(name, { name, transition, heartbeatSec, defaultResult });
    return {};
  }

  #findAction(params: Map<string, string>): Action {
    const group = this.#group(required(params, 'AutoScalingGroupName'));
    const hookName = required(params, 'LifecycleHookName');
    const token = params.get('LifecycleActionToken');
    const instance = params.get('InstanceId');
    if (!token && !instance) {
      throw new ApiError('ValidationError', 'Either LifecycleActionToken or InstanceId must be specified');
    }
    checkActionParameters(hookName, token, instance);
    const action = [...this.#actions.values()].find(
      (a) =>
        a.group === group.name &&
        a.hook.name === hookName &&
        (token ? a.token === token : a.instance.id === instance),
    );
    if (!action) {
      // AWS's answer for an action completed already, ended at its timeout, or never held.
      throw new ApiError(
        'ValidationError',
        `No active Lifecycle Action found with ${token ? `token ${token}` : `instance ID ${instance}`}`,
      );
    }
    return action;
  }

  #launch(group: Group): void {
    const instance: LocalInstance = {
      id: instanceId(),
      group: group.name,
      state: 'InService',
      launchedAt: Date.now(),
    };
    group.instances.push(instance);
    this.host.start(instance);
    this.#stateChange(instance, 'running');
    const hook = [...group.hooks.values()].find((h) => h.transition === LAUNCH);
    if (hook) this.#hold(group, instance, hook, 'Pending:Wait');
  }

  #terminate(group: Group, instance: LocalInstance): void {
    const hook = [...group.hooks.values()].find((h) => h.transition === TERMINATE);
    if (hook && instance.state === 'InService') this.#hold(group, instance, hook, 'Terminating:Wait');
    else this.#terminated(instance);
  }

  #hold(group: Group, instance: LocalInstance, hook: Hook, state: LocalInstance['state']): void {
    instance.state = state;
    const token = randomUUID();
    const action: Action = {
      token,
      group: group.name,
      hook,
      instance,
      globalDeadline: Date.now() + Math.min(172_800, 100 * hook.heartbeatSec) * 1000,
      timer: setTimeout(() => this.#complete(action, hook.defaultResult), hook.heartbeatSec * 1000),
    };
    action.timer.unref();
    this.#actions.set(token, action);
    this.host.publish({
      Source: 'aws.autoscaling',
      DetailType: `EC2 Instance-${hook.transition === LAUNCH ? 'launch' : 'terminate'} Lifecycle Action`,
      Detail: JSON.stringify({
        Origin: hook.transition === LAUNCH ? 'EC2' : 'AutoScalingGroup',
        Destination: hook.transition === LAUNCH ? 'AutoScalingGroup' : 'EC2',
        LifecycleActionToken: token,
        AutoScalingGroupName: group.name,
        LifecycleHookName: hook.name,
        EC2InstanceId: instance.id,
        LifecycleTransition: hook.transition,
      }),
      EventBusName: 'default',
    });
  }

  #heartbeat(action: Action): void {
    clearTimeout(action.timer);
    const wait = Math.min(action.hook.heartbeatSec * 1000, Math.max(0, action.globalDeadline - Date.now()));
    action.timer = setTimeout(() => this.#complete(action, action.hook.defaultResult), wait);
    action.timer.unref();
  }

  #complete(action: Action, result: string): void {
    if (result !== 'CONTINUE' && result !== 'ABANDON') {
      throw new ApiError(
        'ValidationError',
        `Valid values for LifecycleActionResult are CONTINUE and ABANDON, got ${result}`,
      );
    }
    clearTimeout(action.timer);
    this.#actions.delete(action.token);
    const launching = action.hook.transition === LAUNCH;
    if (launching && result === 'CONTINUE') action.instance.state = 'InService';
    else this.#terminated(action.instance);
  }

  #terminated(instance: LocalInstance): void {
    if (instance.state === 'Terminated') return;
    instance.state = 'Terminated';
    this.host.stop(instance);
    this.#stateChange(instance, 'terminated');
  }

  #stateChange(instance: LocalInstance, state: string): void {
    this.host.publish({
      Source: 'aws.ec2',
      DetailType: 'EC2 Instance State-change Notification',
      Detail: JSON.stringify({ 'instance-id': instance.id, state }),
      EventBusName: 'default',
    });
  }

  #describeGroups(names: string[]): XmlValue[] {
    const groups =
      names.length === 0 ? [...this.#groups.values()] : names.flatMap((n) => this.#groups.get(n) ?? []);
    return groups.map((g) => {
      const live = g.instances.filter((i) => i.state !== 'Terminated');
      return {
        AutoScalingGroupName: g.name,
        MinSize: g.min,
        MaxSize: g.max,
        DesiredCapacity: live.filter((i) => i.state !== 'Terminating:Wait').length,
        DefaultCooldown: 300,
        AvailabilityZones: ['us-east-1a'],
        HealthCheckType: 'EC2',
        CreatedTime: new Date(0).toISOString(),
        Instances: live.map((i) => ({
          InstanceId: i.id,
          AvailabilityZone: 'us-east-1a',
          LifecycleState: i.state,
          HealthStatus: 'Healthy',
          ProtectedFromScaleIn: false,
        })),
      };
    });
  }
}
