import { Socket } from 'node:net';

/**
 * One buffer every plain-TCP socket of the process reads into, instead of a fresh ArrayBuffer per
 * read that the young-generation GC must later sweep, and without the Readable machinery of a
 * 'data' event. Sharing is safe because a read lands here and its callback runs to the end before
 * libuv starts the next read of any socket: whoever keeps bytes past the callback copies them.
 */
export const SHARED_READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

/** Called with the number of bytes just read into {@link SHARED_READ_BUFFER}. */
export type SharedReadCallback = (n: number) => void;

/**
 * `net.Socket` keeps its `onread` option (documented for sockets it creates, not for the ones a
 * server accepts) under these symbols (`lib/net.js`, Node 20 and later). Found by name once; when
 * a Node release renames them, {@link readIntoShared} says no and sockets read as streams.
 */
const probe = new Socket();
const symbol = (name: string) =>
  Object.getOwnPropertySymbols(probe).find((s) => s.description === name) as symbol | undefined;
const kBuffer = symbol('kBuffer');
const kBufferCb = symbol('kBufferCb');
probe.destroy();

interface UserBufferHandle {
  useUserBuffer(buf: Uint8Array): void;
}
type Slots = Record<symbol, unknown> & { _handle?: Partial<UserBufferHandle> | null };

/**
 * Makes an accepted TCP socket read into {@link SHARED_READ_BUFFER} and call `callback`, exactly
 * as `new net.Socket({ onread: { buffer, callback } })` would have: no 'data' events from then on;
 * 'end', 'error', 'close', `pause()` and `resume()` as usual. False (nothing changed) when this
 * Node does not expose the mechanism; the caller then listens for 'data'.
 */
export function readIntoShared(socket: Socket, callback: SharedReadCallback): boolean {
  const s = socket as unknown as Slots;
  const handle = s._handle;
  if (kBuffer === undefined || kBufferCb === undefined || typeof handle?.useUserBuffer !== 'function')
    return false;
  if (s[kBuffer] !== null || s[kBufferCb] !== null) return false;
  s[kBuffer] = SHARED_READ_BUFFER;
  s[kBufferCb] = (n: number) => {
    callback(n);
    return true;
  };
  handle.useUserBuffer(SHARED_READ_BUFFER);
  return true;
}

/**
 * Gives a socket set up by {@link readIntoShared} back its stream behaviour for the rest of its
 * life: every later read is copied and pushed, so 'data' listeners (Node's HTTP server after a
 * hand-over, an upgraded tunnel) get chunks of their own, and a full read buffer pauses reading
 * as it would have.
 */
export function readAsStream(socket: Socket): void {
  if (kBufferCb === undefined) return;
  (socket as unknown as Slots)[kBufferCb] = (n: number) =>
    socket.push(Buffer.from(SHARED_READ_BUFFER.subarray(0, n)));
}

/** True when `buf` is a view of {@link SHARED_READ_BUFFER} (to be copied before it is kept). */
export function isShared(buf: Buffer): boolean {
  return buf.buffer === SHARED_READ_BUFFER.buffer;
}
