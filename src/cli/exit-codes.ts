// Exit codes of the client commands (`isohttpd deploy|ls|show|logs|update|rm`): stable, for scripts.

/** The exit code of a client command, by what happened. Never renumber one: scripts test them. */
export const EXIT = Object.freeze({
  /** Done. */
  ok: 0,
  /** The API answered with an error not listed below (400, 409, 413, 415, 429, 5xx…) or something unreadable. */
  apiError: 1,
  /** Bad command line: unknown command or option, a missing or malformed argument, an unreadable FILE. */
  usage: 2,
  /** 404: no such server (or route). */
  notFound: 3,
  /** 401 or 403: missing or wrong token, or refused by the address policy or a quota. */
  forbidden: 4,
  /** 422: the handler source is not a usable module. */
  invalidSource: 5,
  /** The API could not be reached, or the connection to it broke. */
  unreachable: 6,
} as const);

/** The exit code for an API error status. */
export function exitCodeForStatus(status: number): number {
  if (status === 404) return EXIT.notFound;
  if (status === 401 || status === 403) return EXIT.forbidden;
  if (status === 422) return EXIT.invalidSource;
  return EXIT.apiError;
}
