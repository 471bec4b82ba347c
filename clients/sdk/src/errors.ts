import type { ErrorCode } from './types.js';

/** An error in the contract's shape (`{"error": {"code", "message", "details"?}}`), HTTP or WebSocket. */
export class ConfabError extends Error {
  override readonly name = 'ConfabError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The HTTP status; undefined for a WebSocket `error` frame. */
    readonly status?: number,
    readonly details: Record<string, unknown> = {},
    /** From `Retry-After` or `details.retry_after_ms`. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The request never got an answer: no connection, a dropped one, or a timeout. */
export class NetworkError extends Error {
  override name = 'NetworkError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class TimeoutError extends NetworkError {
  override name = 'TimeoutError';
}

/**
 * A WebSocket frame over the server's frame limit: refused before it was sent, or the frame the
 * server closed the connection for (1009). Sending it again on a socket cannot succeed; REST,
 * whose body limit is larger, can carry it or refuse it for good.
 */
export class FrameTooLargeError extends ConfabError {
  constructor(message: string) {
    super('payload_too_large', message);
  }
}

const transientCodes: ReadonlySet<ErrorCode> = new Set(['rate_limited', 'unavailable']);

/** Worth trying again later: the server did not act on it, or may not have. */
export function isTransient(error: unknown): boolean {
  return error instanceof NetworkError || (error instanceof ConfabError && transientCodes.has(error.code));
}

/** Builds a ConfabError from a parsed error body, falling back to the status when the body is not the contract's shape. */
export function errorFromBody(body: unknown, status: number | undefined, retryAfterMs?: number): ConfabError {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  const code = typeof error?.code === 'string' ? (error.code as ErrorCode) : codeForStatus(status);
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${status ?? '?'}`;
  const details = (error?.details && typeof error.details === 'object' ? error.details : {}) as Record<string, unknown>;
  const hinted = typeof details.retry_after_ms === 'number' ? details.retry_after_ms : undefined;
  return new ConfabError(code, message, status, details, retryAfterMs ?? hinted);
}

function codeForStatus(status: number | undefined): ErrorCode {
  switch (status) {
    case 400: return 'bad_request';
    case 401: return 'unauthorized';
    case 403: return 'forbidden';
    case 404: return 'not_found';
    case 405: return 'method_not_allowed';
    case 409: return 'conflict';
    case 413: return 'payload_too_large';
    case 415: return 'unsupported_media_type';
    case 429: return 'rate_limited';
    case 503: return 'unavailable';
    default: return 'internal';
  }
}
