/**
 * `--nodes FILE|-`: the hosts to address, as one identity per line (`drover find` output works:
 * the first word of each line is taken) or as the JSON of a previous `--json` / `--jsonl` output,
 * so runs chain through pipes: `drover run … --json | jq … | drover run other --nodes -`.
 */
import { readFileSync } from 'node:fs';
import { CliError } from './errors.ts';

/** A host in a JSON document: its node id when given (exact), else its identity. */
function hostName(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  const host = value as { nodeId?: unknown; identity?: unknown };
  if (typeof host.nodeId === 'string' && host.nodeId !== '') return host.nodeId;
  if (typeof host.identity === 'string' && host.identity !== '') return host.identity;
  return undefined;
}

function fromJsonDocument(doc: unknown): string[] | undefined {
  if (Array.isArray(doc)) return doc.map(hostName).filter((n): n is string => n !== undefined);
  if (typeof doc === 'object' && doc !== null && Array.isArray((doc as { hosts?: unknown }).hosts)) {
    return fromJsonDocument((doc as { hosts: unknown[] }).hosts);
  }
  const single = hostName(doc);
  return single === undefined ? undefined : [single];
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The host names in `text`, in order and without duplicates. `source` names the input in errors.
 * Accepted: a JSON document with `hosts` (drover run/show/find --json), a JSON array of names or
 * of host objects, JSON lines (drover run --jsonl; the summary line is skipped), or plain lines
 * whose first word is the name (blank lines and `#` comments ignored).
 */
export function parseNodeList(text: string, source: string): string[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  let names: string[] | undefined;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const doc = tryJson(trimmed);
    if (doc !== undefined) {
      names = fromJsonDocument(doc);
    } else {
      names = [];
      for (const [index, line] of trimmed.split('\n').entries()) {
        if (line.trim() === '') continue;
        const item = tryJson(line);
        if (item === undefined) {
          throw new CliError(
            `${source}: line ${index + 1} is not JSON; give one identity per line or the output of drover run --json/--jsonl`,
          );
        }
        if ((item as { type?: unknown }).type === 'summary') continue;
        names.push(...(fromJsonDocument(item) ?? []));
      }
    }
    if (names === undefined) {
      throw new CliError(
        `${source}: the JSON has no hosts; expected the output of drover run --json or a list of identities`,
      );
    }
  } else {
    names = trimmed
      .split('\n')
      .map((line) => line.replace(/#.*$/, '').trim().split(/\s+/)[0] ?? '')
      .filter((name) => name !== '');
  }
  return [...new Set(names)];
}

/** All of a stream (standard input), as text. */
async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads `--nodes FILE` or `--nodes -` (standard input) and parses it. */
export async function readNodeList(
  path: string,
  stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
): Promise<{ names: string[]; source: string }> {
  const source = path === '-' ? '--nodes - (standard input)' : `--nodes ${path}`;
  if (path === '-' && stdin.isTTY) {
    throw new CliError(
      '--nodes -: standard input is a terminal; pipe a list in, e.g. drover find -F role=web | drover run uptime --nodes -',
    );
  }
  let text: string;
  try {
    text = path === '-' ? await readAll(stdin) : readFileSync(path, 'utf8');
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`${source}: cannot read it (${reason})`, 4, { cause: error });
  }
  return { names: parseNodeList(text, source), source };
}
