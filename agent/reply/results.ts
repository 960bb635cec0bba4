/**
 * What the agent reports and gives its commands: result replies built from executions (or from
 * requests that never ran), and the minimal, documented environment commands run with.
 */
import { MESSAGE_VERSION, type ResultReply, type SignedRequest } from '#shared/messages.ts';
import type { ExecutionResult } from '../execute/executor.ts';
import type { RunAsUser } from '../execute/run-as.ts';

/** Who sends a reply. */
export interface ReplyOrigin {
  nodeId: string;
  identity: string;
  sentAt: number;
}

export function resultReply(
  from: ReplyOrigin,
  request: Pick<SignedRequest, 'runId' | 'batch' | 'group'>,
  r: ExecutionResult,
): ResultReply {
  return {
    v: MESSAGE_VERSION,
    ...from,
    type: 'result',
    runId: request.runId,
    batch: request.batch,
    // Echoed so ingest counts the result on its group's tally (a restart's report has none).
    ...(request.group !== undefined ? { group: request.group } : {}),
    exitCode: r.exitCode,
    signal: r.signal,
    timedOut: r.timedOut,
    ...(r.cancelled ? { cancelled: true } : {}),
    stdout: r.stdout,
    stderr: r.stderr,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    ...(r.error !== undefined ? { error: r.error } : {}),
  };
}

/**
 * The whole environment of a command: nothing of the agent's own (credentials included) leaks.
 * `PATH`, `HOME`, `LANG`, `USER`/`LOGNAME` when running as another user, and `DROVER_*`.
 */
export function commandEnv(
  host: { nodeId: string; identity: string; commandPath: string; runAs?: RunAsUser },
  request: SignedRequest,
): Record<string, string> {
  return {
    PATH: host.commandPath,
    HOME: host.runAs?.home ?? process.env.HOME ?? '/',
    LANG: 'C.UTF-8',
    ...(host.runAs ? { USER: host.runAs.name, LOGNAME: host.runAs.name } : {}),
    DROVER_RUN_ID: request.runId,
    DROVER_BATCH: String(request.batch),
    DROVER_NODE_ID: host.nodeId,
    DROVER_IDENTITY: host.identity,
    DROVER_CALLER: request.caller,
    // Who started the run as STS vouched for it; absent when the caller was not proven.
    ...(request.callerArn !== undefined ? { DROVER_CALLER_ARN: request.callerArn } : {}),
  };
}
