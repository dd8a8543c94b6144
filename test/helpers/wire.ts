import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** What reached a server at the TCP level. */
export interface WireStats {
  /** Connections open now. */
  readonly open: number;
  /** Most connections open at the same time. */
  readonly maxOpen: number;
  /** Connections accepted in all. */
  readonly accepted: number;
  /** Bytes received on every connection, closed or open. */
  bytes(): number;
}

/**
 * Watches the connections of a (recording) upstream's server: how many were open at once and
 * how many bytes arrived, whether or not a complete request was ever parsed from them.
 */
export function watchWire(server: Server): WireStats {
  const live = new Set<Socket>();
  let closedBytes = 0;
  const stats = {
    open: 0,
    maxOpen: 0,
    accepted: 0,
    bytes(): number {
      let n = closedBytes;
      for (const s of live) n += s.bytesRead;
      return n;
    },
  };
  server.on('connection', (socket: Socket) => {
    live.add(socket);
    stats.accepted++;
    stats.open++;
    if (stats.open > stats.maxOpen) stats.maxOpen = stats.open;
    socket.once('close', () => {
      live.delete(socket);
      closedBytes += socket.bytesRead;
      stats.open--;
    });
  });
  return stats;
}
