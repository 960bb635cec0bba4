import { describe, it, expect } from 'vitest';
import type { FilterSpec } from '#shared/messages.ts';
import {
  FilterSyntaxError,
  describeFilter,
  exactIdentities,
  formatFilterError,
  lookupFact,
  matchFilter,
  parseFilter,
  type HostFacts,
} from '#shared/filter/index.ts';

function host(overrides: Partial<HostFacts> = {}): HostFacts {
  return { identity: 'web-01.example.com', facts: {}, classes: [], ...overrides };
}

function spec(parts: Partial<FilterSpec> = {}): FilterSpec {
  return { with: [], fact: [], class: [], identity: [], ...parts };
}

function matches(parts: Partial<FilterSpec>, target: HostFacts): boolean {
  return matchFilter(parseFilter(spec(parts)), target);
}

function selects(expression: string, target: HostFacts): boolean {
  return matches({ select: expression }, target);
}

function syntaxError(parts: Partial<FilterSpec>): FilterSyntaxError {
  try {
    parseFilter(spec(parts));
  } catch (error: unknown) {
    if (error instanceof FilterSyntaxError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(parts)} not to parse`);
}

const web = host({
  identity: 'web-01.example.com',
  facts: {
    role: 'web',
    env: 'prod',
    cpus: 4,
    memory_gb: '16',
    virtual: true,
    kernel: '6.1.0',
    tags: ['frontend', 'public'],
    ports: [80, 443],
    os: { family: 'Debian', release: { major: '12' } },
    'ec2.instance_type': 'm6i.large',
    motd: 'hello world',
    owner: null,
  },
  classes: ['apache', 'base', 'role::web'],
});
const db = host({
  identity: 'db-01.example.com',
  facts: { role: 'db', env: 'prod', cpus: 16, virtual: 'false', os: { family: 'RedHat' } },
  classes: ['postgres', 'base'],
});
const bare = host({ identity: 'bare', facts: {}, classes: [] });

describe('fact comparisons (-F)', () => {
  it('matches = and == on equal strings, case-sensitively', () => {
    expect(matches({ fact: ['role=web'] }, web)).toBe(true);
    expect(matches({ fact: ['role==web'] }, web)).toBe(true);
    expect(matches({ fact: ['role=Web'] }, web)).toBe(false);
    expect(matches({ fact: ['role=web'] }, db)).toBe(false);
  });

  it('allows whitespace around the operator', () => {
    expect(matches({ fact: ['role = web'] }, web)).toBe(true);
  });

  it('matches != when the value differs', () => {
    expect(matches({ fact: ['role!=web'] }, db)).toBe(true);
    expect(matches({ fact: ['role!=web'] }, web)).toBe(false);
  });

  it('treats a missing fact as not equal, so != matches hosts without it', () => {
    expect(matches({ fact: ['role!=web'] }, bare)).toBe(true);
    expect(matches({ fact: ['role=web'] }, bare)).toBe(false);
    expect(selects('not role=web', bare)).toBe(true);
  });

  it('treats a null fact as missing', () => {
    expect(matches({ fact: ['owner'] }, web)).toBe(false);
    expect(matches({ fact: ['owner!=alice'] }, web)).toBe(true);
  });

  it('compares numbers numerically for = and ordering operators', () => {
    expect(matches({ fact: ['cpus=4'] }, web)).toBe(true);
    expect(matches({ fact: ['cpus=4.0'] }, web)).toBe(true);
    expect(matches({ fact: ['cpus>2'] }, web)).toBe(true);
    expect(matches({ fact: ['cpus>=4'] }, web)).toBe(true);
    expect(matches({ fact: ['cpus<4'] }, web)).toBe(false);
    expect(matches({ fact: ['cpus<=4'] }, web)).toBe(true);
    expect(matches({ fact: ['cpus>8'] }, db)).toBe(true);
    expect(matches({ fact: ['cpus<10'] }, db)).toBe(false);
  });

  it('matches a numeric string fact with = as text and with ordering as a number', () => {
    const target = host({ facts: { cpus: '4', memory_gb: '16' } });
    expect(matches({ fact: ['cpus=4'] }, target)).toBe(true);
    expect(matches({ fact: ['memory_gb>8'] }, target)).toBe(true);
    expect(matches({ fact: ['memory_gb<8'] }, target)).toBe(false);
  });

  it('compares non-numeric strings lexicographically with ordering operators', () => {
    expect(matches({ fact: ['kernel>5.0.0'] }, web)).toBe(true);
    expect(matches({ fact: ['kernel<6.0.0'] }, web)).toBe(false);
    expect(matches({ fact: ['role>a'] }, web)).toBe(true);
  });

  it('never orders a number against a non-numeric string or a boolean', () => {
    expect(matches({ fact: ['cpus>abc'] }, web)).toBe(false);
    expect(matches({ fact: ['role<5'] }, web)).toBe(false);
    expect(matches({ fact: ['virtual>0'] }, web)).toBe(false);
  });

  it('never matches an ordering operator on a missing fact', () => {
    for (const op of ['<', '>', '<=', '>=']) {
      expect(matches({ fact: [`cpus${op}1`] }, bare)).toBe(false);
    }
  });

  it('matches booleans against true/false, and string facts "true"/"false" as text', () => {
    expect(matches({ fact: ['virtual=true'] }, web)).toBe(true);
    expect(matches({ fact: ['virtual=false'] }, web)).toBe(false);
    expect(matches({ fact: ['virtual!=true'] }, web)).toBe(false);
    expect(matches({ fact: ['virtual=false'] }, db)).toBe(true);
  });

  it('matches =~ against a plain regex or a /regex/ literal', () => {
    expect(matches({ fact: ['role=~^w'] }, web)).toBe(true);
    expect(matches({ fact: ['role=~/^W/i'] }, web)).toBe(true);
    expect(matches({ fact: ['role=~^d'] }, web)).toBe(false);
  });

  it('treats key=/re/ as a regex match and key!=/re/ as its negation', () => {
    expect(matches({ fact: ['role=/^we/'] }, web)).toBe(true);
    expect(matches({ fact: ['role!=/^we/'] }, web)).toBe(false);
    expect(matches({ fact: ['role!=/^we/'] }, db)).toBe(true);
  });

  it('regex-matches the string form of numbers and booleans', () => {
    expect(matches({ fact: ['cpus=~^4$'] }, web)).toBe(true);
    expect(matches({ fact: ['virtual=/^tr/'] }, web)).toBe(true);
  });

  it('does not regex-match a missing fact or a nested object', () => {
    expect(matches({ fact: ['role=~.*'] }, bare)).toBe(false);
    expect(matches({ fact: ['os=~.*'] }, web)).toBe(false);
  });

  it('treats a bare key as "fact exists"', () => {
    expect(matches({ fact: ['role'] }, web)).toBe(true);
    expect(matches({ fact: ['role'] }, bare)).toBe(false);
    expect(matches({ fact: ['apache'] }, web)).toBe(false);
  });

  it('ANDs several -F items', () => {
    expect(matches({ fact: ['role=web', 'env=prod'] }, web)).toBe(true);
    expect(matches({ fact: ['role=web', 'env=dev'] }, web)).toBe(false);
  });
});

describe('dotted fact paths', () => {
  it('looks up nested facts', () => {
    expect(matches({ fact: ['os.family=Debian'] }, web)).toBe(true);
    expect(matches({ fact: ['os.release.major>=12'] }, web)).toBe(true);
    expect(matches({ fact: ['os.family=Debian'] }, db)).toBe(false);
  });

  it('finds a literal top-level key containing dots', () => {
    expect(matches({ fact: ['ec2.instance_type=m6i.large'] }, web)).toBe(true);
  });

  it('prefers the literal key over the nested path', () => {
    const target = host({ facts: { 'a.b': 'literal', a: { b: 'nested' } } });
    expect(lookupFact(target.facts, 'a.b')).toBe('literal');
  });

  it('falls back to the nested path when the literal key leads nowhere', () => {
    const target = host({ facts: { 'a.b': { x: 1 }, a: { b: { y: 2 } } } });
    expect(lookupFact(target.facts, 'a.b.y')).toBe(2);
  });

  it('reaches array elements by index and misses paths through scalars', () => {
    const target = host({ facts: { disks: [{ size: 100 }], role: 'web' } });
    expect(matches({ fact: ['disks.0.size=100'] }, target)).toBe(true);
    expect(matches({ fact: ['role.name'] }, target)).toBe(false);
  });
});

describe('array facts', () => {
  it('matches = when any element is equal', () => {
    expect(matches({ fact: ['tags=public'] }, web)).toBe(true);
    expect(matches({ fact: ['ports=443'] }, web)).toBe(true);
    expect(matches({ fact: ['tags=private'] }, web)).toBe(false);
  });

  it('matches != only when no element is equal', () => {
    expect(matches({ fact: ['tags!=private'] }, web)).toBe(true);
    expect(matches({ fact: ['tags!=public'] }, web)).toBe(false);
  });

  it('matches regex and ordering when any element does', () => {
    expect(matches({ fact: ['tags=~^front'] }, web)).toBe(true);
    expect(matches({ fact: ['ports>400'] }, web)).toBe(true);
    expect(matches({ fact: ['ports>500'] }, web)).toBe(false);
  });
});

describe('classes (-C) and identities (-I)', () => {
  it('matches an exact class name, including Puppet-style names', () => {
    expect(matches({ class: ['apache'] }, web)).toBe(true);
    expect(matches({ class: ['role::web'] }, web)).toBe(true);
    expect(matches({ class: ['apache'] }, db)).toBe(false);
    expect(matches({ class: ['apach'] }, web)).toBe(false);
  });

  it('matches a class regex', () => {
    expect(matches({ class: ['/^post/'] }, db)).toBe(true);
    expect(matches({ class: ['/^POST/i'] }, db)).toBe(true);
    expect(matches({ class: ['/^post/'] }, web)).toBe(false);
  });

  it('ANDs several -C items', () => {
    expect(matches({ class: ['apache', 'base'] }, web)).toBe(true);
    expect(matches({ class: ['apache', 'postgres'] }, web)).toBe(false);
  });

  it('matches an exact identity or an identity regex', () => {
    expect(matches({ identity: ['web-01.example.com'] }, web)).toBe(true);
    expect(matches({ identity: ['web-01'] }, web)).toBe(false);
    expect(matches({ identity: ['/^web-\\d+\\./'] }, web)).toBe(true);
    expect(matches({ identity: ['/^web-/'] }, db)).toBe(false);
  });

  it('ORs several -I items so each named host is selected', () => {
    const both = { identity: ['web-01.example.com', 'db-01.example.com'] };
    expect(matches(both, web)).toBe(true);
    expect(matches(both, db)).toBe(true);
    expect(matches(both, bare)).toBe(false);
  });

  it('ANDs the -I alternatives with the other parts', () => {
    const parts = { identity: ['web-01.example.com', 'db-01.example.com'], class: ['postgres'] };
    expect(matches(parts, db)).toBe(true);
    expect(matches(parts, web)).toBe(false);
  });
});

describe('combined filters (-W)', () => {
  it('treats an item with an operator as a fact comparison', () => {
    expect(matches({ with: ['role=web'] }, web)).toBe(true);
    expect(matches({ with: ['cpus>8'] }, web)).toBe(false);
  });

  it('treats a bare word as "class or fact exists"', () => {
    expect(matches({ with: ['apache'] }, web)).toBe(true);
    expect(matches({ with: ['env'] }, web)).toBe(true);
    expect(matches({ with: ['apache'] }, db)).toBe(false);
    expect(matches({ with: ['owner'] }, web)).toBe(false);
  });

  it('treats a bare /regex/ as a class regex', () => {
    expect(matches({ with: ['/^apa/'] }, web)).toBe(true);
    expect(matches({ with: ['/^rol/'] }, db)).toBe(false);
  });

  it('ANDs whitespace-separated terms in one item, as MCollective does', () => {
    expect(matches({ with: ['role=web apache'] }, web)).toBe(true);
    expect(matches({ with: ['role=web postgres'] }, web)).toBe(false);
  });
});

describe('compound expressions (-S)', () => {
  it('evaluates and, or and not', () => {
    expect(selects('role=web and env=prod', web)).toBe(true);
    expect(selects('role=web and env=dev', web)).toBe(false);
    expect(selects('role=db or role=web', web)).toBe(true);
    expect(selects('not role=web', web)).toBe(false);
    expect(selects('not role=web', db)).toBe(true);
  });

  it('accepts &&, || and ! as symbols and keywords in any case', () => {
    expect(selects('role=web && env=prod', web)).toBe(true);
    expect(selects('role=db || role=web', web)).toBe(true);
    expect(selects('!role=web', db)).toBe(true);
    expect(selects('!!role=web', web)).toBe(true);
    expect(selects('role=web AND NOT env=dev', web)).toBe(true);
  });

  it('binds not tighter than and, and and tighter than or', () => {
    // Read as (role=db and env=dev) or role=web.
    expect(selects('role=db and env=dev or role=web', web)).toBe(true);
    // Read as role=web or (role=db and env=dev).
    expect(selects('role=web or role=db and env=dev', db)).toBe(false);
    // Read as (not role=web) and env=prod.
    expect(selects('not role=web and env=prod', db)).toBe(true);
    expect(selects('not role=web and env=prod', web)).toBe(false);
  });

  it('lets parentheses override precedence', () => {
    expect(selects('(role=web or role=db) and env=dev', web)).toBe(false);
    expect(selects('role=web and (env=dev or cpus=4)', web)).toBe(true);
    expect(selects('not (role=web or role=db)', db)).toBe(false);
    expect(selects('((role=web))', web)).toBe(true);
  });

  it('matches class: and identity: terms, exact or regex, with id: as an alias', () => {
    expect(selects('class:apache and identity:web-01.example.com', web)).toBe(true);
    expect(selects('class:/^POST/i', db)).toBe(true);
    expect(selects('id:/^db-/', db)).toBe(true);
    expect(selects('id:/^db-/', web)).toBe(false);
    expect(selects('class:role::web', web)).toBe(true);
  });

  it('treats bare words as "class or fact exists" and a bare /regex/ as a class regex', () => {
    expect(selects('apache and not postgres', web)).toBe(true);
    expect(selects('memory_gb', web)).toBe(true);
    expect(selects('/^postg/', db)).toBe(true);
  });

  it('takes quoted values with spaces, operators and keywords', () => {
    expect(selects('motd="hello world"', web)).toBe(true);
    expect(selects("motd='hello world' and role=web", web)).toBe(true);
    expect(selects('role="a=b or c"', web)).toBe(false);
    expect(selects('class:"role::web"', web)).toBe(true);
  });

  it('reads a keyword or prefix-like word after an operator as a plain value', () => {
    const target = host({ facts: { mode: 'and', owner: 'id:42' } });
    expect(selects('mode=and', target)).toBe(true);
    expect(selects('owner=id:42', target)).toBe(true);
  });

  it('handles escaped quotes inside quoted values', () => {
    const target = host({ facts: { motd: 'say "hi"' } });
    expect(selects('motd="say \\"hi\\""', target)).toBe(true);
  });

  it('allows escaped slashes and slashes in character classes inside a /regex/', () => {
    const target = host({ facts: { path: '/usr/bin' } });
    expect(selects('path=/^\\/usr\\//', target)).toBe(true);
    expect(selects('path=/^[/]usr[/]bin$/ and path="/usr/bin"', target)).toBe(true);
  });

  it('ANDs -S with the other parts', () => {
    expect(matches({ class: ['base'], select: 'role=web or role=db' }, db)).toBe(true);
    expect(matches({ class: ['apache'], select: 'role=web or role=db' }, db)).toBe(false);
  });
});

describe('empty filter', () => {
  it('matches every host', () => {
    expect(matches({}, web)).toBe(true);
    expect(matches({}, bare)).toBe(true);
  });
});

describe('exactIdentities', () => {
  it('returns the names when the filter is only exact identities', () => {
    expect(exactIdentities(spec({ identity: ['web-01', ' db-01 ', 'web-01'] }))).toEqual(['web-01', 'db-01']);
  });

  it('returns undefined when any identity is a regex', () => {
    expect(exactIdentities(spec({ identity: ['web-01', '/^db/'] }))).toBeUndefined();
  });

  it('returns undefined when other parts are present or nothing is given', () => {
    expect(exactIdentities(spec({ identity: ['web-01'], class: ['apache'] }))).toBeUndefined();
    expect(exactIdentities(spec({ identity: ['web-01'], select: 'role=web' }))).toBeUndefined();
    expect(exactIdentities(spec({ identity: ['web-01'], fact: ['a=b'], with: ['x'] }))).toBeUndefined();
    expect(exactIdentities(spec())).toBeUndefined();
  });
});

describe('describeFilter', () => {
  it('says "all hosts" for an empty spec', () => {
    expect(describeFilter(spec())).toBe('all hosts');
  });

  it('joins the parts with "and" in a readable form', () => {
    expect(describeFilter(spec({ fact: ['role=web'], class: ['apache'] }))).toBe('role=web and class:apache');
    expect(describeFilter(spec({ with: ['base'], identity: ['/^web/'] }))).toBe('base and identity:/^web/');
  });

  it('shows several identities as alternatives', () => {
    expect(describeFilter(spec({ identity: ['a', 'b'] }))).toBe('identity:a or identity:b');
    expect(describeFilter(spec({ identity: ['a', 'b'], class: ['x'] }))).toBe(
      'class:x and (identity:a or identity:b)',
    );
  });

  it('parenthesizes a compound -S only when combined with other parts', () => {
    expect(describeFilter(spec({ select: ' role=web or role=db ' }))).toBe('role=web or role=db');
    expect(describeFilter(spec({ class: ['base'], select: 'role=web or role=db' }))).toBe(
      'class:base and (role=web or role=db)',
    );
  });
});

describe('syntax errors', () => {
  it('reports a dangling "(" at the end of input, with flag and source', () => {
    const error = syntaxError({ select: 'role=web and (' });
    expect(error.column).toBe(15);
    expect(error.source).toBe('-S "role=web and ("');
    expect(error.input).toBe('role=web and (');
    expect(error.name).toBe('FilterSyntaxError');
    expect(error.message).toBe('-S: expected a fact, class or "(" at column 15, found end of input');
  });

  it('reports an unclosed "(" where ")" was expected, naming the opening column', () => {
    const error = syntaxError({ select: 'env=prod and (role=web or role=db' });
    expect(error.column).toBe(34);
    expect(error.message).toContain('the "(" at column 14 is never closed');
  });

  it('reports a ")" without a matching "("', () => {
    expect(syntaxError({ select: 'role=web)' }).column).toBe(9);
  });

  it('reports a dangling and/or/not at the end of input', () => {
    expect(syntaxError({ select: 'role=web and' }).column).toBe(13);
    expect(syntaxError({ select: 'role=web ||' }).column).toBe(12);
    expect(syntaxError({ select: 'not' }).column).toBe(4);
  });

  it('reports an operator at the start of an expression', () => {
    const error = syntaxError({ select: 'or role=web' });
    expect(error.column).toBe(1);
    expect(error.message).toContain('found "or"');
  });

  it('reports a comparison without a value', () => {
    const error = syntaxError({ fact: ['role='] });
    expect(error.column).toBe(6);
    expect(error.message).toBe('-F: expected a value after "=" at column 6, found end of input');
  });

  it('reports an empty or blank expression', () => {
    expect(syntaxError({ select: '' }).column).toBe(1);
    expect(syntaxError({ select: '   ' }).column).toBe(4);
    expect(syntaxError({ fact: [''] }).column).toBe(1);
    expect(syntaxError({ class: [''] }).column).toBe(1);
    expect(syntaxError({ identity: [' '] }).column).toBe(2);
  });

  it('reports an invalid regex at its opening slash', () => {
    const error = syntaxError({ select: 'env=prod and role=/(/' });
    expect(error.column).toBe(19);
    expect(error.message).toContain('invalid regular expression /(/');
    expect(error.cause).toMatchObject({ name: 'RE2JSSyntaxException' });
    expect(syntaxError({ fact: ['role=~[a'] }).column).toBe(7);
    expect(syntaxError({ class: ['/[/'] }).column).toBe(1);
  });

  it('reports an unsupported regex flag at the flag', () => {
    expect(syntaxError({ select: 'class:/web/g' }).column).toBe(12);
  });

  it('reports unknown operators such as => and >< at their first character', () => {
    expect(syntaxError({ fact: ['role=>web'] }).column).toBe(5);
    expect(syntaxError({ select: 'cpus><4' }).column).toBe(5);
    const error = syntaxError({ fact: ['cpus>>4'] });
    expect(error.source).toBe('-F "cpus>>4"');
    expect(error.message).toContain('unknown operator ">>" at column 5');
  });

  it('reports a lone & or |', () => {
    expect(syntaxError({ select: 'a & b' }).column).toBe(3);
    expect(syntaxError({ select: 'a | b' }).column).toBe(3);
  });

  it('reports trailing garbage after a complete expression', () => {
    expect(syntaxError({ select: 'role=web env=prod' }).column).toBe(10);
    expect(syntaxError({ select: 'role=web (' }).column).toBe(10);
    expect(syntaxError({ fact: ['role=web and env=prod'] }).column).toBe(10);
    expect(syntaxError({ class: ['/web/ x'] }).column).toBe(7);
  });

  it('reports an unterminated quote or regex at its opening character', () => {
    expect(syntaxError({ select: 'motd="hello' }).column).toBe(6);
    expect(syntaxError({ select: 'role=/web' }).column).toBe(6);
  });

  it('reports keywords in -W and -F, which cannot combine terms', () => {
    expect(syntaxError({ with: ['apache or nginx'] }).column).toBe(8);
  });

  it('reports a prefix without a name', () => {
    expect(syntaxError({ select: 'class: and x' }).column).toBe(7);
    expect(syntaxError({ select: 'role=web and id:' }).column).toBe(17);
    expect(syntaxError({ select: 'class:(x)' }).column).toBe(7);
  });

  it('reports the first bad part of a spec', () => {
    const error = syntaxError({ fact: ['role=web', 'cpus>>4'], select: '(' });
    expect(error.flag).toBe('-F');
    expect(error.column).toBe(5);
  });
});

describe('formatFilterError', () => {
  it('shows the message, the input and a caret under the column', () => {
    const error = syntaxError({ select: 'role=web and (' });
    expect(formatFilterError(error)).toBe(
      [
        '-S: expected a fact, class or "(" at column 15, found end of input',
        '  role=web and (',
        '                ^',
      ].join('\n'),
    );
  });

  it('keeps tabs in the padding so the caret lines up', () => {
    const error = syntaxError({ select: '\trole=>x' });
    expect(formatFilterError(error).split('\n')[2]).toBe('  \t    ^');
  });
});
