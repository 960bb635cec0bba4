/**
 * Group names: they become Chef role names (`role-<group>`, Chef allows letters, digits, `_`, `-`),
 * the `group` fact of every host, and part of AMI names, so the narrowest of those alphabets.
 * Shared by the fleet file and run requests that address a group (`--group`, `--ordinal`).
 */
export const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export const GROUP_NAME_RULE =
  'a group name is letters, digits, "_" and "-" (starting with a letter or digit), at most 64 characters';

/** The fact every host of a group reports, naming the group. */
export const GROUP_FACT = 'group';
