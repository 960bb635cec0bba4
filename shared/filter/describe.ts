/**
 * Reading a filter spec without parsing it: what the CLI's listings print and whether any filter
 * was given. Apart from the parser so that a command which only shows specs (`drover runs`,
 * `drover show`, `drover schedule list`) does not load the regex engine at start-up.
 */
import type { FilterSpec } from '#shared/messages.ts';

/**
 * A short description of a spec for operators and logs, e.g. `role=web and class:apache`; the
 * parts are shown as written, joined the way `parseFilter` (parser.ts) combines them. `all hosts`
 * when the spec is empty. Never throws, so it can describe a spec that does not parse.
 */
export function describeFilter(spec: FilterSpec): string {
  const identities = spec.identity.map((item) => `identity:${item.trim()}`);
  const select = spec.select?.trim() ?? '';
  const parts = [
    ...[...spec.with, ...spec.fact].map((item) => ({ text: item.trim(), compound: false })),
    ...spec.class.map((item) => ({ text: `class:${item.trim()}`, compound: false })),
    ...(identities.length > 0 ? [{ text: identities.join(' or '), compound: identities.length > 1 }] : []),
    { text: select, compound: /\s|\|/.test(select) },
  ].filter((part) => part.text !== '');
  if (parts.length === 0) return 'all hosts';
  if (parts.length === 1) return parts[0]?.text ?? '';
  return parts.map((part) => (part.compound ? `(${part.text})` : part.text)).join(' and ');
}

/** Whether any filter part was given (a bare `--nodes` list then addresses exactly its hosts). */
export function hasFilter(spec: FilterSpec): boolean {
  return (
    spec.with.length + spec.fact.length + spec.class.length + spec.identity.length > 0 ||
    spec.select !== undefined
  );
}
