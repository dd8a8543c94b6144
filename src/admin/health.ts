import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { resolve } from 'node:path';
import type { RuntimeState } from '../config/compile.js';
import type { ProviderRegistry } from '../authn/providers.js';
import type { SinkStats } from '../audit/outbox.js';
import { farmsOf } from '../upstream/farm/report.js';
import type { AdminAccess } from './access.js';
import { ADMIN_SERVICE } from './feature.js';

/** The config version and the last reload's outcome, kept by the console across reloads. */
export interface ConfigStatus {
  version: string;
  loadedAt: Date;
  lastReload: { ok: boolean; at: string; error?: string } | null;
}

const DAY_MS = 86_400_000;

function certificate(name: string, file: string, baseDir: string) {
  try {
    const c = new X509Certificate(readFileSync(resolve(baseDir, file)));
    const notAfter = new Date(c.validTo);
    return {
      name,
      subject: c.subject.replace(/\n/g, ', '),
      not_after: notAfter.toISOString(),
      days_left: Math.floor((notAfter.getTime() - Date.now()) / DAY_MS),
    };
  } catch (e) {
    return { name, error: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
}

async function redisHealth(state: RuntimeState) {
  const store = (state.services.get(ADMIN_SERVICE) as AdminAccess | undefined)?.sessions?.store;
  if (store === undefined || store.kind !== 'redis') return null;
  const t = performance.now();
  try {
    await store.get('admin-health-probe');
    return { used_by: 'session', ok: true, latency_ms: Math.round((performance.now() - t) * 1000) / 1000 };
  } catch (e) {
    return { used_by: 'session', ok: false, error: (e as Error).message };
  }
}

/**
 * `GET /api/health`: each identity provider's key set (age of the last load, stale limit, last
 * error), each upstream's targets (health checks, ejection), the Redis session store, the audit
 * sinks, certificate expiry (listeners and the admin listener), and the config version with the
 * last reload's outcome. Reads state only; nothing is fetched (see `POST /api/doctor`).
 */
export async function healthReport(
  state: RuntimeState,
  baseDir: string,
  sinks: readonly SinkStats[],
  config: ConfigStatus,
) {
  const registry = state.services.get('providers') as ProviderRegistry | undefined;
  const now = Date.now();
  const providers = [...(registry?.providers.values() ?? [])].map((p) => {
    const f = p.keys?.freshness;
    const age = f === undefined || f.loadedAt === 0 ? null : Math.round((now - f.loadedAt) / 1000);
    return {
      name: p.name,
      issuer: p.issuer,
      jwks_age_s: age,
      last_refresh: f === undefined || f.loadedAt === 0 ? null : new Date(f.loadedAt).toISOString(),
      last_error: p.keys?.lastError ?? null,
      stale: p.keys === undefined ? false : !p.keys.usable(),
      stale_after_s: f === undefined ? null : Math.round(f.staleAfterMs / 1000),
    };
  });
  const farms = farmsOf(state);
  const upstreams = [
    ...farms.map((f) => ({
      name: f.name,
      targets: f.snapshot().targets.map((t) => ({ url: t.target, healthy: t.healthy, check_up: t.check_up })),
    })),
    // Single-URL upstreams have no health check: listed with health unknown (null).
    ...Object.entries(state.config.upstreams)
      .filter(([name, u]) => u.url !== undefined && !farms.some((f) => f.name === name))
      .map(([name, u]) => ({ name, targets: [{ url: u.url as string, healthy: null, check_up: null }] })),
  ];
  const certificates = [
    ...state.config.server.listeners.flatMap((l, i) =>
      l.tls?.cert === undefined ? [] : [certificate(`listener ${l.name ?? i}`, l.tls.cert, baseDir)],
    ),
    ...(state.config.admin?.tls === undefined
      ? []
      : [certificate('admin listener', state.config.admin.tls.cert, baseDir)]),
  ];
  return {
    providers,
    upstreams,
    redis: await redisHealth(state),
    audit_sinks: sinks.map((s) => ({
      name: s.name,
      on_failure: s.onFailure,
      up: s.up,
      written: s.written,
      dropped: s.dropped,
      failed: s.failed,
      buffered: s.buffered,
    })),
    certificates,
    config: {
      version: config.version,
      loaded_at: config.loadedAt.toISOString(),
      last_reload: config.lastReload,
    },
  };
}
