import { Redis, Cluster } from 'ioredis';
import type { Logger } from 'pino';
import type { CompileContext } from '../pipeline/feature.js';
import type { RedisConfig } from './schema.js';

/** A connected ioredis client: single node, Sentinel-managed or Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * Logs a recurring failure at most once per `everyMs`, with the number of occurrences since
 * the last line, so an outage does not flood the log.
 */
export class ThrottledLog {
  #last = 0;
  #suppressed = 0;
  constructor(
    private readonly logger: Logger,
    private readonly msg: string,
    private readonly everyMs = 10_000,
  ) {}

  note(err: unknown, extra: Record<string, unknown> = {}): void {
    const now = Date.now();
    if (now - this.#last < this.everyMs) {
      this.#suppressed++;
      return;
    }
    this.logger.warn(
      { ...extra, err: err instanceof Error ? err.message : String(err), suppressed: this.#suppressed },
      this.msg,
    );
    this.#last = now;
    this.#suppressed = 0;
  }
}

/**
 * Builds an ioredis client for checks on the request path: auto-pipelining (concurrent checks
 * share one write and one read), no offline queue and at most one
 * retry (a command fails fast while Redis is down instead of piling up), short timeouts, and
 * reconnection forever in the background so service recovers by itself.
 */
export function createRedis(cfg: RedisConfig, logger: Logger): RedisClient {
  const common = {
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    connectTimeout: cfg.connect_timeout,
    commandTimeout: cfg.command_timeout,
    lazyConnect: true,
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
  };
  let client: RedisClient;
  if (cfg.cluster) {
    client = new Cluster(cfg.cluster.nodes, {
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      lazyConnect: true,
      clusterRetryStrategy: (times: number) => Math.min(100 * times, 2000),
      redisOptions: { ...common, lazyConnect: undefined },
    });
  } else if (cfg.sentinel) {
    client = new Redis({
      ...common,
      name: cfg.sentinel.name,
      sentinels: cfg.sentinel.nodes.map((n) => {
        const i = n.lastIndexOf(':');
        return { host: n.slice(0, i), port: Number(n.slice(i + 1)) };
      }),
      sentinelPassword: cfg.sentinel.password,
    });
  } else {
    client = new Redis(cfg.url as string, common);
  }
  const log = new ThrottledLog(logger, 'redis connection problem');
  client.on('error', (err: unknown) => log.note(err));
  client.on('ready', () => logger.info('redis ready'));
  return client;
}

/**
 * One client per distinct Redis configuration per runtime state, shared by every feature
 * that uses it; connected at start (never in dry runs), closed on shutdown or reload.
 */
export function sharedRedis(cctx: CompileContext, cfg: RedisConfig): RedisClient | undefined {
  if (cctx.dryRun) return undefined;
  const id = `redis:${JSON.stringify(cfg)}`;
  const existing = cctx.services.get(id) as RedisClient | undefined;
  if (existing) return existing;
  const client = createRedis(cfg, cctx.logger);
  cctx.services.set(id, client);
  cctx.onStart(async () => {
    client.connect().catch(() => undefined);
  });
  cctx.onClose(() => {
    client.disconnect();
  });
  return client;
}
