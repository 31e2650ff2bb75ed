// Errors the server answers with a status code and TF Serving's `{"error": "..."}` body.
// Anything else reaching the error handler is a bug and answers 500 (logged), never a crash.

export class ServeError extends Error {
  override name = 'ServeError';
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** 400: the request does not fit the model (names, shapes, dtypes, values) or is malformed. */
export const badRequest = (message: string): ServeError => new ServeError(400, message);

/** 404: no such model, version or label. */
export const notFound = (message: string): ServeError => new ServeError(404, message);

/** 429: the model's queue is full; the client should retry after `seconds`. */
export const queueFull = (message: string, seconds: number): ServeError =>
  new ServeError(429, message, { 'retry-after': String(seconds) });

/** 503: the server is shutting down or the version is being unloaded. */
export const unavailable = (message: string): ServeError => new ServeError(503, message);

/** Thrown into a queued request whose client went away; nobody reads its answer. */
export class CancelledError extends Error {
  override name = 'CancelledError';
}
