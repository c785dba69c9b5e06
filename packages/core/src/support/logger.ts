/**
 * The structured logger the adapters take (pino's argument order: fields first, then the message),
 * so apps/server hands them its pino logger as it is. The core itself does not log.
 */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

/** A logger that drops everything (the adapters' default). */
export const noopLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
