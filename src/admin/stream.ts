import type { ServerResponse } from 'node:http';
import { GatehouseError } from '../errors/index.js';
import type { FeedEntry } from './feed.js';
import { decisionJson, matches, type DecisionFilter } from './decisions.js';

interface Client {
  readonly res: ServerResponse;
  readonly filter: DecisionFilter;
  /** Events written while the socket wanted a drain. */
  queued: number;
}

const HEARTBEAT_MS = 15_000;

/**
 * The live decision stream (Server-Sent Events) with bounded fan-out: at most `maxClients`
 * clients; each may fall `buffer` events behind (written while its socket is congested) before
 * it is disconnected — a slow console never slows the proxy, and memory per client is bounded.
 * An entry is serialised once, and only when a client wants it.
 */
export class LiveStream {
  readonly #clients = new Set<Client>();
  #heartbeat: NodeJS.Timeout | undefined;
  /** Clients disconnected for falling behind (reported in health). */
  dropped = 0;

  constructor(
    private readonly maxClients: number,
    private readonly buffer: number,
    private readonly instance: string,
  ) {}

  get clients(): number {
    return this.#clients.size;
  }

  /** Opens a stream on `res`; GH_ADMIN_STREAM_FULL when `maxClients` are connected. */
  open(res: ServerResponse, filter: DecisionFilter, backlog: readonly FeedEntry[]): void {
    if (this.#clients.size >= this.maxClients)
      throw new GatehouseError('GH_ADMIN_STREAM_FULL', `${this.#clients.size} stream clients`);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    res.write(': gatehouse decisions\nretry: 3000\n\n');
    const c: Client = { res, filter, queued: 0 };
    this.#clients.add(c);
    res.on('drain', () => (c.queued = 0));
    res.once('close', () => {
      this.#clients.delete(c);
      if (this.#clients.size === 0 && this.#heartbeat) {
        clearInterval(this.#heartbeat);
        this.#heartbeat = undefined;
      }
    });
    for (const e of backlog)
      this.#write(c, `event: decision\ndata: ${JSON.stringify(decisionJson(e, this.instance))}\n\n`);
    this.#heartbeat ??= setInterval(() => {
      for (const cl of this.#clients) cl.res.write(': keep-alive\n\n');
    }, HEARTBEAT_MS).unref();
  }

  /** Called for every new entry (a feed listener). */
  readonly publish = (e: FeedEntry): void => {
    if (this.#clients.size === 0) return;
    let frame: string | undefined;
    for (const c of this.#clients) {
      if (!matches(c.filter, e)) continue;
      frame ??= `event: decision\ndata: ${JSON.stringify(decisionJson(e, this.instance))}\n\n`;
      this.#write(c, frame);
    }
  };

  #write(c: Client, frame: string): void {
    if (c.res.writableNeedDrain && ++c.queued > this.buffer) {
      this.dropped++;
      this.#clients.delete(c);
      c.res.destroy();
      return;
    }
    c.res.write(frame);
  }

  /** Ends every stream (shutdown). */
  close(): void {
    for (const c of this.#clients) c.res.end();
    this.#clients.clear();
    if (this.#heartbeat) clearInterval(this.#heartbeat);
  }
}
