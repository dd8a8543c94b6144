import type { Socket } from 'node:net';
import type { RequestContext } from '../pipeline/context.js';
import { GatehouseError } from '../errors/index.js';
import { canonicalIp } from '../util/ip.js';

/** Per-client caps (`server.max_connections_per_client`, `server.max_in_flight_per_client`); 0: none. */
export interface AdmissionLimits {
  readonly connections: number;
  readonly inFlight: number;
}

/** What one client address holds now. In the table exactly while either count is above zero. */
class ClientSlot {
  connections = 0;
  inFlight = 0;
  constructor(readonly key: string) {}
}

/** `ctx.extra` key of the slot a request counts against. */
const ADMITTED = 'admission.slot';
const RETRY_AFTER: Record<string, string> = Object.freeze({ 'Retry-After': '1' });

/**
 * Caps what one client can hold, so a slow or abusive client cannot starve the others:
 *
 * - **connections** per TCP peer address, counted from accept to close (every listener of the
 *   process shares the count). Trusted proxies (`server.trusted_proxies`) are exempt: their
 *   connections carry many clients.
 * - **requests in flight** per client address — the peer, or the address a trusted proxy
 *   reports (`ctx.clientIp`) — from the start of the pipeline until the request is recorded.
 *   This bounds pipelined requests on one connection and clients behind a proxy.
 *
 * IPv4-mapped IPv6 peers count as their IPv4 address. Counts are per process (each worker of
 * `server.workers` has its own). A request costs one map lookup and no allocation while its
 * client holds a connection.
 */
export class Admission {
  readonly #clients = new Map<string, ClientSlot>();

  constructor(
    readonly limits: AdmissionLimits,
    /** True for a trusted proxy's address (read at accept, so a reload applies at once). */
    private readonly trusted: (ip: string) => boolean,
  ) {}

  /** Client addresses holding a connection or a request now (tests, metrics). */
  get size(): number {
    return this.#clients.size;
  }

  /** Connections and requests in flight of `ip` now. */
  usage(ip: string): { connections: number; inFlight: number } {
    const slot = this.#clients.get(ip);
    return { connections: slot?.connections ?? 0, inFlight: slot?.inFlight ?? 0 };
  }

  /**
   * Counts a new connection against its peer until it closes. Returns the peer's address when
   * it is at its cap (nothing counted: the caller refuses the connection), else `undefined`.
   */
  connect(socket: Socket): string | undefined {
    const max = this.limits.connections;
    if (max === 0) return undefined;
    const ip = canonicalIp(socket.remoteAddress ?? '');
    if (ip === '' || this.trusted(ip)) return undefined;
    let slot = this.#clients.get(ip);
    if (slot === undefined) {
      slot = new ClientSlot(ip);
      this.#clients.set(ip, slot);
    } else if (slot.connections >= max) return ip;
    slot.connections++;
    const counted = slot;
    socket.once('close', () => {
      counted.connections--;
      this.#release(counted);
    });
    return undefined;
  }

  /**
   * Counts a request in flight for its client; returns GH_TOO_MANY_IN_FLIGHT (with
   * `Retry-After`) when the client is at its cap. Every counted request must reach
   * {@link Admission.leave} (the handler calls it where the request is recorded).
   */
  enter(ctx: RequestContext): GatehouseError | undefined {
    const max = this.limits.inFlight;
    if (max === 0) return undefined;
    const ip = ctx.clientIp;
    // A trusted proxy that named no client: its requests are many clients' requests.
    if (ctx.peerTrusted && ip === ctx.peer) return undefined;
    let slot = this.#clients.get(ip);
    if (slot === undefined) {
      slot = new ClientSlot(ip);
      this.#clients.set(ip, slot);
    } else if (slot.inFlight >= max)
      return new GatehouseError('GH_TOO_MANY_IN_FLIGHT', `${ip}: ${slot.inFlight} requests in flight`, {
        headers: RETRY_AFTER,
      });
    slot.inFlight++;
    ctx.extra[ADMITTED] = slot;
    return undefined;
  }

  /** Ends what {@link Admission.enter} counted for `ctx`; safe to call more than once. */
  leave(ctx: RequestContext): void {
    const slot = ctx.extra[ADMITTED] as ClientSlot | undefined;
    if (slot === undefined) return;
    ctx.extra[ADMITTED] = undefined;
    slot.inFlight--;
    this.#release(slot);
  }

  #release(slot: ClientSlot): void {
    if (slot.connections === 0 && slot.inFlight === 0) this.#clients.delete(slot.key);
  }
}
