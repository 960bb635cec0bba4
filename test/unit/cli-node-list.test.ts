import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { parseNodeList, readNodeList } from '#cli/node-list.ts';
import { CliError } from '#cli/errors.ts';
import { hostJson, jsonlHostLine, jsonlSummaryLine, runJson } from '#cli/output/json.ts';
import { nodeRunItem, runMetaItem } from '../helpers/factories.ts';

const SOURCE = '--nodes -';

describe('parseNodeList', () => {
  it('takes one identity per line, skipping blank lines and # comments', () => {
    expect(parseNodeList('web-1\n\n# the databases\ndb-1  # primary\n', SOURCE)).toEqual(['web-1', 'db-1']);
  });

  it('takes the first word of each line, so drover find output feeds it', () => {
    expect(
      parseNodeList('web-1  last seen 3s ago\nweb-2  last seen 9s ago (stale)  i-0abc\n', SOURCE),
    ).toEqual(['web-1', 'web-2']);
  });

  it('drops duplicates and keeps the first order', () => {
    expect(parseNodeList('b\na\nb\n', SOURCE)).toEqual(['b', 'a']);
  });

  it('takes the hosts of a drover run --json document, by node id', () => {
    const doc = runJson(
      'RUN',
      runMetaItem(),
      [nodeRunItem({ nodeId: 'i-1', identity: 'web-1' }), nodeRunItem({ nodeId: 'i-2', identity: 'web-2' })],
      10,
    );

    expect(parseNodeList(JSON.stringify(doc, null, 2), SOURCE)).toEqual(['i-1', 'i-2']);
  });

  it('takes the host lines of drover run --jsonl and skips the summary line', () => {
    const lines = [
      jsonlHostLine('RUN', nodeRunItem({ nodeId: 'web-1', identity: 'web-1' })),
      jsonlHostLine('RUN', nodeRunItem({ nodeId: 'web-2', identity: 'web-2' })),
      jsonlSummaryLine('RUN', runMetaItem(), 10),
    ];

    expect(parseNodeList(lines.map((l) => JSON.stringify(l)).join('\n') + '\n', SOURCE)).toEqual([
      'web-1',
      'web-2',
    ]);
  });

  it('takes a JSON array of names or of host objects', () => {
    expect(parseNodeList('["web-1", "db-1"]', SOURCE)).toEqual(['web-1', 'db-1']);
    expect(parseNodeList(JSON.stringify([hostJson(nodeRunItem({ nodeId: 'i-9' }))]), SOURCE)).toEqual([
      'i-9',
    ]);
  });

  it('gives nothing for empty input', () => {
    expect(parseNodeList('  \n', SOURCE)).toEqual([]);
  });

  it('refuses JSON lines that are not JSON, naming the line', () => {
    expect(() => parseNodeList('{"identity":"web-1"}\nweb-2\n', SOURCE)).toThrow(
      '--nodes -: line 2 is not JSON; give one identity per line or the output of drover run --json/--jsonl',
    );
  });

  it('refuses a JSON document without hosts', () => {
    expect(() => parseNodeList('{"runs": []}', SOURCE)).toThrow(CliError);
  });
});

describe('readNodeList', () => {
  it('reads standard input for -', async () => {
    const stdin = Readable.from(['web-1\n', 'web-2\n']);

    expect(await readNodeList('-', stdin)).toEqual({
      names: ['web-1', 'web-2'],
      source: '--nodes - (standard input)',
    });
  });

  it('refuses - when standard input is a terminal', async () => {
    const stdin = Object.assign(Readable.from([]), { isTTY: true });

    await expect(readNodeList('-', stdin)).rejects.toThrow('standard input is a terminal');
  });

  it('says which file it cannot read', async () => {
    await expect(readNodeList('/nonexistent/hosts.txt')).rejects.toThrow(
      '--nodes /nonexistent/hosts.txt: cannot read it',
    );
  });
});
