/**
 * An answer other than success, raised anywhere below a handler and turned into the
 * contract's error body `{ error: { code, message, field? } }` by `instrumented`.
 */
export interface ApiErrorOptions {
  /** The request field that is wrong, named in the body as `field`. */
  readonly field?: string;
  /** Extra members of the error body, e.g. the short SKUs of a refused order. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Headers of the answer, e.g. `retry-after`. */
  readonly headers?: Readonly<Record<string, string>>;
}

export class ApiError extends Error {
  readonly field?: string;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    options: ApiErrorOptions = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.field = options.field;
    this.details = options.details;
    this.headers = options.headers;
  }
}

/** Seconds a client should wait before retrying while the strong store is unreachable. */
export const STRONG_STORE_RETRY_AFTER_SECONDS = 5;

/** Thrown by the strong store's adapter when the database cannot be reached. */
export class StrongStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('The strong store (Aurora) cannot be reached', { cause });
    this.name = 'StrongStoreUnavailableError';
  }
}

/** The database answered but gave up waiting for a lock or a statement: retrying helps. */
export class StrongStoreBusyError extends Error {
  constructor(cause: unknown) {
    super('The strong store is busy', { cause });
    this.name = 'StrongStoreBusyError';
  }
}

export function strongStoreBusy(what: string): ApiError {
  return new ApiError(
    503,
    'STRONG_STORE_BUSY',
    `${what} is busy with another request for the same data (perhaps the same Idempotency-Key); nothing more was written. Retry after ${STRONG_STORE_RETRY_AFTER_SECONDS} seconds.`,
    { headers: { 'retry-after': String(STRONG_STORE_RETRY_AFTER_SECONDS) } },
  );
}

export function strongStoreUnavailable(jurisdiction: string, what: string): ApiError {
  return new ApiError(
    503,
    'STRONG_STORE_UNAVAILABLE',
    `${what} is read-only for now: the ${jurisdiction} jurisdiction's database cannot be reached. Nothing was written; retry after ${STRONG_STORE_RETRY_AFTER_SECONDS} seconds.`,
    { headers: { 'retry-after': String(STRONG_STORE_RETRY_AFTER_SECONDS) } },
  );
}
