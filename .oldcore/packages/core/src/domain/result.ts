/**
 * The outcome of an operation whose failures are expected (not found, conflict, invalid input…).
 * Infrastructure failures are thrown as {@link OtaoError} instead.
 */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}

/** An expected failure: a stable dotted code, a human message, and the offending field when there is one. */
export interface Failure<C extends string> {
  readonly code: C;
  readonly message: string;
  readonly field?: string;
}

export function failure<C extends string>(code: C, message: string, field?: string): Failure<C> {
  return field === undefined ? { code, message } : { code, message, field };
}
