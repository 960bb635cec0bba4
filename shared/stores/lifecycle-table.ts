/**
 * The lifecycle table: partition key `asg`, sort key `sk`, every item the fleet-lifecycle side
 * keeps. Each kind of item has its store beside this file; the keys of all of them are here, so
 * the whole key space reads at once and no two kinds can collide. Items that outlive their use
 * carry `expiresAt` (the table's TTL attribute).
 *
 * | kind                  | asg                       | sk                  | store                  |
 * | --------------------- | ------------------------- | ------------------- | ---------------------- |
 * | group configuration   | the Auto Scaling group    | `config`            | lifecycle-config.ts    |
 * | a group's reactions   | `reactions#<group>`       | `reactions`         | reactions.ts           |
 * | join wait (token)     | the Auto Scaling group    | `join#<instance>`   | lifecycle-waits.ts     |
 * | run wait (token)      | `run#<run id>`            | `wait`              | lifecycle-waits.ts     |
 * | answer to an action   | the Auto Scaling group    | `answer#<token>`    | lifecycle-answers.ts   |
 * | claim of an action    | the Auto Scaling group    | `action#<token>`    | lifecycle-answers.ts   |
 * | reaction window       | `reaction-window#<run id>`| `pending`           | reaction-windows.ts    |
 * | reactions run before  | `reacted#<node id>`       | `terminated`        | reaction-windows.ts    |
 */

/** A key of the lifecycle table. */
export interface LifecycleKey {
  asg: string;
  sk: string;
}

/** Sort keys that name a kind on their own (scans filter on them). */
export const CONFIG_SK = 'config';
export const REACTIONS_SK = 'reactions';

export const lifecycleKeys = {
  config: (asg: string): LifecycleKey => ({ asg, sk: CONFIG_SK }),
  reactions: (group: string): LifecycleKey => ({ asg: `reactions#${group}`, sk: REACTIONS_SK }),
  join: (asg: string, instanceId: string): LifecycleKey => ({ asg, sk: `join#${instanceId}` }),
  runWait: (runId: string): LifecycleKey => ({ asg: `run#${runId}`, sk: 'wait' }),
  answer: (asg: string, token: string): LifecycleKey => ({ asg, sk: `answer#${token}` }),
  claim: (asg: string, token: string): LifecycleKey => ({ asg, sk: `action#${token}` }),
  reactionWindow: (runId: string): LifecycleKey => ({ asg: `reaction-window#${runId}`, sk: 'pending' }),
  reacted: (nodeId: string): LifecycleKey => ({ asg: `reacted#${nodeId}`, sk: 'terminated' }),
} as const;
