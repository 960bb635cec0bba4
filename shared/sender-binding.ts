/**
 * Which principals may speak for which node: the SQS `SenderId` of every reply (the unique id of
 * the IAM user, or `<role id>:<session name>` for a role session) is checked against the node the
 * reply names, and a reply from anyone else is refused. The rules, in order:
 *
 * 1. An EC2 instance role session (`AROA…:i-0abc…`) speaks for the node whose id is that instance
 *    id, and for no other. EC2 names the session after the instance; the instance cannot choose.
 * 2. A session of a role listed in `roles` speaks for the node named by its session name (off-EC2
 *    agents that assume a role whose trust policy pins the session name, e.g. to the IAM Roles
 *    Anywhere certificate's CN; and the local stack's agents).
 * 3. A principal listed in `senders` (its exact SenderId) speaks for the nodes listed with it
 *    (`*`: any node that is not an EC2 instance id; the local demo fleet, one process hosting
 *    many simulated nodes).
 *
 * The bindings live in the control plane's configuration (`DROVER_SENDER_BINDINGS`), never in
 * the message.
 */
import { z } from 'zod';

export const senderBindingsSchema = z
  .object({
    roles: z.array(z.string().regex(/^[A-Z0-9]+$/, 'a role id such as AROAEXAMPLEID')).default([]),
    senders: z.record(z.string().min(1), z.array(z.string().min(1)).min(1)).default({}),
  })
  .strict();
export type SenderBindings = z.infer<typeof senderBindingsSchema>;

export const NO_SENDER_BINDINGS: SenderBindings = { roles: [], senders: {} };

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const ROLE_SESSION = /^([A-Z0-9]+):(.+)$/;

/**
 * Why `senderId` may not speak for `nodeId`, or undefined when it may (see the rules above).
 */
export function senderRefusal(
  senderId: string | undefined,
  nodeId: string,
  bindings: SenderBindings,
): string | undefined {
  if (senderId === undefined || senderId === '') return 'the message has no SenderId';
  const session = ROLE_SESSION.exec(senderId);
  if (session) {
    const [, roleId, name] = session as unknown as [string, string, string];
    if (INSTANCE_ID.test(name)) {
      return name === nodeId ? undefined : `sent by instance ${name}, not by ${nodeId}`;
    }
    if (bindings.roles.includes(roleId)) {
      return name === nodeId ? undefined : `sent by the session of ${name}, not by ${nodeId}`;
    }
  }
  const nodes = bindings.senders[senderId];
  if (nodes === undefined) return `sender ${senderId} is not bound to any node`;
  if (nodes.includes(nodeId) || (nodes.includes('*') && !INSTANCE_ID.test(nodeId))) return undefined;
  return `sender ${senderId} may not speak for ${nodeId}`;
}

/** Reads `DROVER_SENDER_BINDINGS` (JSON; empty = none). Throws a message naming the problem. */
export function parseSenderBindings(text: string | undefined): SenderBindings {
  if (text === undefined || text.trim() === '') return NO_SENDER_BINDINGS;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('DROVER_SENDER_BINDINGS is not JSON');
  }
  const parsed = senderBindingsSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(`DROVER_SENDER_BINDINGS: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}
