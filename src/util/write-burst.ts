import type { Socket } from 'node:net';

const sockets: Socket[] = [];
const chunks: (Buffer | string)[] = [];
const callbacks: ((() => void) | undefined)[] = [];

/**
 * Queues a write that completes a message (an upstream request head without a body, the last
 * bytes of a response) and issues every queued write together in the check phase of this
 * event-loop turn, after all sockets that were ready have been read. Strings are latin1.
 *
 * Each write wakes the process on the other end. Issued one by one between reads, they wake the
 * client and the upstream once per message, and an upstream on the same CPU is handed the CPU
 * after each of them; issued in one burst, the peers find several messages per wake-up. On the
 * benchmark machine this halved the context switches per request (2.4–2.9 → 1.2–1.3).
 *
 * Only for the final write of a message: nothing else may be written to `socket` for that
 * message afterwards, and the next message on it must wait for `done` (or, for an upstream
 * request, for its response), which keeps the order of bytes on every socket. A socket destroyed
 * in the meantime gets the write anyway, so `done` sees the same error it would have seen.
 */
export function writeSoon(socket: Socket, chunk: Buffer | string, done?: () => void): void {
  if (sockets.push(socket) === 1) setImmediate(flush);
  chunks.push(chunk);
  callbacks.push(done);
}

function flush(): void {
  // Writes issued here may queue more (a `done` that starts the next message): they get the next turn.
  const n = sockets.length;
  for (let i = 0; i < n; i++) {
    const socket = sockets[i]!;
    // A write that throws must not stop the others, nor leave the queue un-emptied: every later
    // writeSoon would then wait for a flush that is never scheduled, process-wide.
    try {
      socket.write(chunks[i]!, 'latin1', callbacks[i]);
    } catch (e) {
      socket.destroy(e as Error);
    }
  }
  sockets.splice(0, n);
  chunks.splice(0, n);
  callbacks.splice(0, n);
  if (sockets.length > 0) setImmediate(flush);
}
