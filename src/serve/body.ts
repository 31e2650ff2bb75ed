// Reading a binary (safetensors) request body as its chunks. Fastify's `parseAs: 'buffer'`
// joins the chunks into one new Buffer (Buffer.concat): for a 600 KB image that is a second
// copy of every body, and, as the body then waits in the batch queue for tens of
// milliseconds, old-space garbage that only full (mark-compact) collections free: at a few
// hundred requests per second, a full collection every few dozen requests. The chunks kept
// here live only while the body arrives; the batcher copies the tensors' bytes out of them
// once, into the batch. The checks are Fastify's own (body limit, Content-Length), with its
// errors, so the answers stay those of the JSON parser.
import { errorCodes, type FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { BodyBytes } from './binary.js';

/** A Fastify content-type parser (stream form) delivering the body as BodyBytes. */
export function bodyBytesParser(
  limit: number,
): (req: FastifyRequest, payload: Readable, done: (err: Error | null, body?: BodyBytes) => void) => void {
  return (req, payload, done) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const stop = (): void => {
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', onEnd);
    };
    function onData(chunk: Buffer | string): void {
      const c = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += c.byteLength;
      if (received > limit) {
        stop();
        done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
        return;
      }
      chunks.push(c);
    }
    function onEnd(err?: Error & { statusCode?: number }): void {
      stop();
      if (err) {
        // A stream error is the client's (it went away mid-body): 400, as Fastify answers it.
        if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
        done(err);
        return;
      }
      if (!Number.isNaN(declared) && received !== declared) {
        done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
        return;
      }
      done(null, new BodyBytes(chunks));
    }
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
    payload.resume();
  };
}
