import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { GatehouseError } from '../errors/index.js';

/** Bounds of one request body, fixed before it is read. */
export interface BodyLimits {
  /**
   * Bodies up to this many bytes are read in full before an upstream connection is taken;
   * a larger body streams once this many bytes arrived (`server.request_buffer_size`).
   * 0 streams at once.
   */
  readonly buffer: number;
  /** The route's `max_body_size` (`Infinity`: unlimited). */
  readonly max: number;
  /** The client's Content-Length; `undefined` for a chunked body. */
  readonly declared: number | undefined;
}

/** Hears how the buffering stage ended; exactly one callback runs, once. */
export interface BodyReady {
  /** A `Buffer` holds the whole body; a stream carries the buffered start and the rest. */
  ready(body: Buffer | Readable): void;
  /** The body passed `max` (chunked): 413, nothing was sent upstream. */
  refused(err: GatehouseError): void;
  /** The client went away (or its connection was closed by a timeout) before the body was read. */
  aborted(): void;
}

/**
 * Reads the start of a request body before an upstream connection is taken (nginx's
 * `proxy_request_buffering`): a body of at most `limits.buffer` bytes is read in full and sent
 * with its length in one write — a chunked one too (RFC 9112 §7.1: the transfer coding is
 * hop-by-hop, so the upstream may get Content-Length instead); a larger one streams once its
 * first `limits.buffer` bytes arrived. A client dribbling its body therefore holds no upstream
 * connection while it dribbles; the wait is bounded by Node's `requestTimeout`
 * (`server.timeouts.request`), which covers the whole request including its body.
 * A chunked body over `limits.max` is refused (413) without any byte sent upstream.
 */
export function bufferBody(
  req: IncomingMessage,
  res: ServerResponse,
  limits: BodyLimits,
  to: BodyReady,
): void {
  if (limits.buffer === 0) return to.ready(limitedStream(req, [], 0, limits.max));
  new BodyCollector(req, res, limits, to).start();
}

/**
 * The buffering stage of one body: listeners on the request until it ends or overflows. Bytes
 * are copied into one buffer (sized by the declared length, doubled for chunked bodies), so a
 * client sending one byte per packet costs bytes, not one retained chunk object per byte.
 */
class BodyCollector {
  private buf: Buffer | undefined;
  private size = 0;
  private settled = false;
  /** Size at which the body streams instead (`Infinity`: a declared length that fits). */
  private readonly streamAt: number;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly limits: BodyLimits,
    private readonly to: BodyReady,
  ) {
    const { buffer, declared } = limits;
    this.streamAt = declared === undefined ? buffer + 1 : declared <= buffer ? Infinity : buffer;
  }

  start(): void {
    const { req } = this;
    req.on('data', this.onData);
    req.once('end', this.onEnd);
    req.once('error', this.onAbort);
    this.res.once('close', this.onAbort);
  }

  private readonly onData = (chunk: Buffer): void => {
    const size = this.size + chunk.length;
    this.size = size;
    if (size > this.limits.max) {
      this.stop();
      this.to.refused(tooLarge(this.limits.max));
      return;
    }
    let buf = this.buf;
    if (buf === undefined || buf.length < size) {
      const { declared, buffer } = this.limits;
      const want =
        declared !== undefined ? Math.min(declared, buffer) : Math.max(4096, 2 * (buf?.length ?? 0));
      const grown = Buffer.allocUnsafe(Math.max(size, Math.min(want, buffer)));
      if (buf !== undefined) buf.copy(grown, 0, 0, size - chunk.length);
      buf = this.buf = grown;
    }
    chunk.copy(buf, size - chunk.length);
    if (size < this.streamAt) return;
    this.stop();
    this.to.ready(limitedStream(this.req, [buf.subarray(0, size)], size, this.limits.max));
  };

  private readonly onEnd = (): void => {
    this.stop();
    const buf = this.buf;
    this.to.ready(buf === undefined ? Buffer.alloc(0) : buf.subarray(0, this.size));
  };

  private readonly onAbort = (): void => {
    if (this.settled) return;
    this.stop();
    this.to.aborted();
  };

  /** Stops reading (paused first: a flowing request without listener would drop data). */
  private stop(): void {
    this.settled = true;
    const { req } = this;
    req.pause();
    req.removeListener('data', this.onData);
    req.removeListener('end', this.onEnd);
    req.removeListener('error', this.onAbort);
    this.res.removeListener('close', this.onAbort);
    // Errors after this point belong to whoever reads on; none may go unhandled meanwhile.
    req.on('error', ignore);
  }
}

function ignore(): void {}

function tooLarge(max: number): GatehouseError {
  return new GatehouseError('GH_BODY_TOO_LARGE', `chunked body exceeded ${max} bytes`);
}

/**
 * The body as a stream: the `prefix` already read, then the rest of `req` with backpressure.
 * Errors with GH_BODY_TOO_LARGE once more than `max` bytes passed (a chunked body; a declared
 * length was checked before). The client's socket stays open so the 413 can still be written.
 */
function limitedStream(req: IncomingMessage, prefix: readonly Buffer[], seen: number, max: number): Readable {
  const out = new Readable({
    read() {
      req.resume();
    },
  });
  for (const chunk of prefix) out.push(chunk);
  const onData = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > max) {
      req.pause();
      req.removeListener('data', onData);
      out.destroy(tooLarge(max));
      return;
    }
    if (!out.push(chunk)) req.pause();
  };
  req.on('data', onData);
  req.once('end', () => out.push(null));
  req.once('error', (e) => out.destroy(e));
  if (req.readableEnded) out.push(null);
  return out;
}
