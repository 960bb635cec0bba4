/** Exit codes of every drover command, as documented in docs/cli.md. */
export const EXIT = {
  ok: 0,
  noMatch: 1,
  commandFailed: 2,
  noResponse: 3,
  invalid: 4,
  interrupted: 130,
} as const;
