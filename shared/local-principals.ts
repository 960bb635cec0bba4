/**
 * Who is who on the local stack, where nothing is authenticated: the access key id a process
 * signs with stands for its principal, and the local SQS emulator records the matching SenderId
 * (local/sqs-senders.ts), so ingest checks local replies with the same rules as in AWS.
 *
 * - An agent process hosting one node signs as a session of the local agent role named after the
 *   node: key `LOCALAGENT.<node id>`, SenderId `AROALOCALAGENT:<node id>` (as an EC2 instance role
 *   session is `AROA…:<instance id>`).
 * - A process hosting many demo agents signs as `LOCALFLEET`, bound to any node that is not an
 *   EC2 instance id (one process speaking for many simulated hosts exists only locally).
 * - Everything else (the CLI, the stack itself: key `local`) is bound to no node.
 */

/** The role id of local agent sessions. */
export const LOCAL_AGENT_ROLE_ID = 'AROALOCALAGENT';
/** The access key id of a process hosting many demo agents. */
export const LOCAL_FLEET_KEY = 'LOCALFLEET';
const AGENT_KEY_PREFIX = 'LOCALAGENT.';

/** The SenderId SQS would record for a request signed with `accessKeyId`. */
export function localSenderId(accessKeyId: string): string {
  return accessKeyId.startsWith(AGENT_KEY_PREFIX)
    ? `${LOCAL_AGENT_ROLE_ID}:${accessKeyId.slice(AGENT_KEY_PREFIX.length)}`
    : accessKeyId;
}

/** The access key id of a local agent process hosting `nodeIds`. */
export function localAgentKey(nodeIds: readonly string[]): string {
  return nodeIds.length === 1 ? `${AGENT_KEY_PREFIX}${nodeIds[0]}` : LOCAL_FLEET_KEY;
}

/** The local stack's sender bindings (DROVER_SENDER_BINDINGS), for the rules above. */
export const LOCAL_SENDER_BINDINGS = { roles: [LOCAL_AGENT_ROLE_ID], senders: { [LOCAL_FLEET_KEY]: ['*'] } };
