/**
 * The agent's logs: one JSON object per line (for journald and log shippers), with run id and
 * node id as keys. Never full command output, never secrets.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface AgentLog {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): AgentLog;
}

export function jsonLog(
  write: (line: string) => void,
  level: LogLevel = 'info',
  base: Record<string, unknown> = {},
): AgentLog {
  const emit = (lvl: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    write(
      JSON.stringify(
        { time: new Date().toISOString(), level: lvl, message, ...base, ...fields },
        errorReplacer,
      ) + '\n',
    );
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => jsonLog(write, level, { ...base, ...fields }),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/**
 * One line per accepted or refused request, appended to the audit file: what was asked (run id,
 * batch, caller, action, command), what the agent decided and why, and for commands that ran
 * their exit code and duration.
 */
export interface AuditEntry {
  decision: 'accepted' | 'rejected' | 'dropped';
  nodeId?: string;
  action?: string;
  reason?: string;
  runId?: string;
  batch?: number;
  caller?: string;
  /** The caller's ARN as STS vouched for it to Plan, when the run's caller was proven. */
  callerArn?: string;
  command?: unknown;
  exitCode?: number | null;
  signal?: string | null;
  timedOut?: boolean;
  cancelled?: boolean;
  durationMs?: number;
  messageId?: string;
  /** What a cancel did: stopped a running command, kept a waiting one from starting, … */
  outcome?: string;
}

export class AuditLog {
  /**
   * `onError` hears of lines that could not be written (disk full, file removed with its
   * directory): the audit is a record, not a gate, so requests still run.
   */
  constructor(
    private readonly path: string,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    mkdirSync(dirname(path), { recursive: true });
  }

  record(entry: AuditEntry): void {
    try {
      appendFileSync(this.path, JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');
    } catch (error: unknown) {
      this.onError(error);
    }
  }
}
