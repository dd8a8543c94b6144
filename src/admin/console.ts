import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { RuntimeState } from '../config/compile.js';
import type { GatehouseConfig } from '../config/schema.js';
import type { RequestContext } from '../pipeline/context.js';
import type { AuditEvent } from '../audit/event.js';
import type { SinkStats } from '../audit/outbox.js';
import { GatehouseError } from '../errors/index.js';
import { ADMIN_REQUEST, ADMIN_ROUTE, type AdminAccess } from './access.js';
import { ADMIN_SERVICE } from './feature.js';
import { Analytics } from './analytics.js';
import { handleApi, type AdminApiHost } from './api.js';
import { entryOf, type FeedEntry } from './feed.js';
import { DecisionRing } from './ring.js';
import { healthReport, type ConfigStatus } from './health.js';
import { AdminListener, type AdminListenerHost } from './listener.js';
import { serveStatic } from './static.js';
import { LiveStream } from './stream.js';
import type { AdminConfig } from './schema.js';
import { apiKeyList, assertionRotate, runDoctorFor } from './actions.js';

/** What the console needs from the gateway (implemented by `Gateway`). */
export interface AdminConsoleHost extends AdminListenerHost {
  readonly baseDir: string;
  readonly configFile?: string | undefined;
  readonly audit: { emit(e: AuditEvent): void; readonly sinkStats: readonly SinkStats[] };
  readonly persistent: Map<string, unknown>;
}

/** The package version (shown in whoami and instances); `unknown` when package.json is not beside the code. */
function packageVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

const VERSION = packageVersion();

const INSTANCE_TTL_MS = 60_000;

let consoles = 0;

/** `host/pid`, numbered when one process runs several gateways (tests). */
function instanceName(): string {
  const n = consoles++;
  return `${hostname()}/${process.pid}${n === 0 ? '' : `#${n + 1}`}`;
}

/** A short digest of a config: its version in the console. */
export function configVersion(config: GatehouseConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12);
}

/**
 * The admin console of one Gatehouse process: the decision ring, analytics and live stream fed
 * by the recorder (only when `admin` is configured), the admin listener and its API.
 */
export class AdminConsole implements AdminApiHost {
  readonly instance = instanceName();
  readonly version = VERSION;
  readonly started = new Date();
  readonly ring: DecisionRing;
  readonly stream: LiveStream;
  readonly analytics: Analytics;
  readonly listener: AdminListener;
  readonly #apiKeysUsed = new Map<string, number>();
  readonly #config: ConfigStatus;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: AdminConsoleHost,
    cfg: AdminConfig,
  ) {
    this.ring = new DecisionRing(cfg.retention.decisions);
    this.stream = new LiveStream(cfg.stream.max_clients, cfg.stream.client_buffer, this.instance);
    this.analytics = new Analytics(cfg.retention.analytics_window);
    this.ring.listen(this.analytics.add);
    this.ring.listen(this.stream.publish);
    this.ring.listen((e) => {
      if (e.principal?.method === 'apikey' && e.principal.credentialId !== undefined)
        this.#apiKeysUsed.set(e.principal.credentialId, e.t);
    });
    this.listener = new AdminListener(host, cfg, host.baseDir, (ctx) => this.#dispatch(ctx));
    this.#config = { version: configVersion(host.state.config), loadedAt: new Date(), lastReload: null };
  }

  get state(): RuntimeState {
    return this.host.state;
  }

  get baseDir(): string {
    return this.host.baseDir;
  }

  get logger(): Logger {
    return this.host.logger;
  }

  /** The recorder's hook: one entry per finished proxied request (admin requests left out). */
  readonly feed = (
    ctx: RequestContext,
    status: number,
    decision: AuditEvent['decision'],
    reasons: readonly string[],
    err: GatehouseError | undefined,
  ): void => {
    if (ctx.extra[ADMIN_REQUEST] === true) return;
    this.ring.push(entryOf(ctx, status, decision, reasons, err));
  };

  async start(): Promise<string> {
    const cfg = this.host.state.config.admin;
    if (cfg?.insecure_non_loopback === true && cfg.tls === undefined)
      this.host.logger.warn(
        { listen: cfg.listen },
        'INSECURE: admin.insecure_non_loopback is on: the admin console and its session cookie travel in clear text',
      );
    const url = await this.listener.start(this.host.persistent);
    this.host.logger.info({ url }, `admin console on ${url}`);
    await this.#register();
    this.#heartbeat = setInterval(() => void this.#register(), INSTANCE_TTL_MS / 3).unref();
    return url;
  }

  async close(): Promise<void> {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.stream.close();
    await this.listener.close();
  }

  /** Called after each reload attempt. */
  reloaded(config: GatehouseConfig | undefined, error?: unknown): void {
    const at = new Date().toISOString();
    if (config === undefined) {
      this.#config.lastReload = { ok: false, at, error: (error as Error)?.message ?? String(error) };
      return;
    }
    this.#config.version = configVersion(config);
    this.#config.loadedAt = new Date();
    this.#config.lastReload = { ok: true, at };
  }

  #dispatch(ctx: RequestContext): void | Promise<void> {
    if (ctx.path === '/api' || ctx.path.startsWith('/api/')) return handleApi(ctx, this);
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD')
      throw new GatehouseError('GH_METHOD_NOT_ALLOWED', `${ctx.method} ${ctx.path}`, {
        headers: { Allow: 'GET, HEAD' },
      });
    serveStatic(ctx.res, ctx.method, ctx.path);
  }

  async health(): Promise<unknown> {
    const report = await healthReport(
      this.host.state,
      this.host.baseDir,
      this.host.audit.sinkStats,
      this.#config,
    );
    return {
      ...report,
      console: {
        instance: this.instance,
        decisions: this.ring.size,
        decisions_capacity: this.ring.capacity,
        decisions_bytes: this.ring.bytes,
        stream_clients: this.stream.clients,
        stream_dropped: this.stream.dropped,
      },
    };
  }

  doctor(): Promise<unknown> {
    return runDoctorFor(this.host.configFile);
  }

  rotateAssertionKey(): Promise<string> {
    return assertionRotate(this.host.state, this.host.baseDir);
  }

  apiKeys(): unknown[] {
    return apiKeyList(this.host.state, this.#apiKeysUsed, this.instance);
  }

  auditAction(
    ctx: RequestContext,
    action: string,
    target: string,
    extra: Record<string, unknown> = {},
  ): void {
    const p = ctx.principal;
    this.host.audit.emit({
      time: new Date().toISOString(),
      type: 'admin.action',
      request_id: ctx.id,
      route: ADMIN_ROUTE,
      method: ctx.method,
      path: ctx.path,
      client_ip: ctx.clientIp,
      provider: p?.provider,
      subject: p?.subject,
      auth_method: p?.method,
      decision: 'allow',
      reasons: [`admin.${action}`],
      status: 200,
      latency_ms: 0,
      action,
      target,
      admin: p === undefined ? undefined : (p.email ?? p.name ?? p.subject),
      instance: this.instance,
      ...extra,
    });
  }

  #store() {
    return (this.host.state.services.get(ADMIN_SERVICE) as AdminAccess | undefined)?.sessions?.store;
  }

  /** Announces this instance in a shared (Redis) session store, for `GET /api/instances`. */
  async #register(): Promise<void> {
    const store = this.#store();
    if (store?.kind !== 'redis') return;
    const key = `admin-instance:${this.instance}`;
    try {
      await store.set(
        key,
        {
          instance: this.instance,
          started: this.started.toISOString(),
          version: VERSION,
          url: this.listener.url,
        },
        INSTANCE_TTL_MS,
      );
      await store.index('admin:instances', key, INSTANCE_TTL_MS);
    } catch (e) {
      this.host.logger.warn({ err: e }, 'admin: cannot announce this instance in the session store');
    }
  }

  async instances(): Promise<unknown[]> {
    const self = {
      instance: this.instance,
      started: this.started.toISOString(),
      version: VERSION,
      self: true,
    };
    const store = this.#store();
    if (store?.kind !== 'redis') return [self];
    const out: unknown[] = [self];
    for (const key of await store.members('admin:instances')) {
      const rec = await store.get(key);
      if (rec !== undefined && rec.instance !== this.instance) out.push({ ...rec, self: false });
    }
    return out;
  }
}

export type { FeedEntry };
