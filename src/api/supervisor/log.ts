// The subset of a pino logger the supervisor and the server manager write to.

/** The subset of a pino logger the pool and the manager use. */
export interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
