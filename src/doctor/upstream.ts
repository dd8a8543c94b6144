/**
 * Upstream checks: every target of every upstream (named or inline) reached with a TCP (and
 * TLS) connection and a `HEAD` request, as the gateway would connect to it.
 * @module
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { resolve } from 'node:path';
import type { UpstreamConfig } from '../config/schema.js';
import type { DoctorContext } from './context.js';
import { describeFailure } from './probe.js';
import { finding, type Finding } from './report.js';

/** One target to check: where it is configured and its URL. */
export interface UpstreamTarget {
  readonly subject: string;
  readonly url: string;
  readonly cfg: UpstreamConfig;
}

/** Every upstream target of the config: named upstreams, then routes' inline upstreams. */
export function upstreamTargets(ctx: DoctorContext): UpstreamTarget[] {
  const out: UpstreamTarget[] = [];
  const add = (subject: string, cfg: UpstreamConfig) => {
    if (cfg.url !== undefined) out.push({ subject, url: cfg.url, cfg });
    cfg.targets?.forEach((t, i) => out.push({ subject: `${subject}.targets[${i}]`, url: t.url, cfg }));
  };
  for (const [name, u] of Object.entries(ctx.config.upstreams)) add(`upstreams.${name}`, u);
  ctx.config.routes.forEach((r, i) => {
    if (typeof r.upstream !== 'string') add(`routes[${i}].upstream`, r.upstream);
  });
  return out;
}

/** TLS options of an upstream as the pool uses them (CA file, SNI, verification). */
export function upstreamTls(
  ctx: DoctorContext,
  cfg: UpstreamConfig,
): { ca?: string; servername?: string; rejectUnauthorized: boolean } {
  const t = cfg.tls;
  return {
    ...(t?.ca ? { ca: readFileSync(resolve(ctx.baseDir, t.ca), 'utf8') } : {}),
    ...(t?.server_name ? { servername: t.server_name } : {}),
    rejectUnauthorized: t?.insecure_skip_verify !== true,
  };
}

type HeadResult = { status: number; ms: number } | { code: string; message: string };

function head(ctx: DoctorContext, t: UpstreamTarget): Promise<HeadResult> {
  const u = new URL(t.url);
  const path = t.cfg.health_check?.path ?? (u.pathname || '/');
  const https = u.protocol === 'https:';
  const started = performance.now();
  return new Promise((done) => {
    let tls: ReturnType<typeof upstreamTls>;
    try {
      tls = https ? upstreamTls(ctx, t.cfg) : { rejectUnauthorized: true };
    } catch (e) {
      done({ code: 'ECA', message: `cannot read tls.ca: ${(e as Error).message}` });
      return;
    }
    const req = (https ? httpsRequest : httpRequest)(
      {
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port || (https ? 443 : 80),
        method: 'HEAD',
        path,
        agent: false,
        timeout: ctx.timeoutMs,
        headers: { host: t.cfg.host_header ?? u.host, 'user-agent': 'gatehouse-doctor' },
        ...(https ? tls : {}),
      },
      (res) => {
        res.resume();
        done({ status: res.statusCode ?? 0, ms: Math.round(performance.now() - started) });
      },
    );
    req.on('timeout', () => {
      req.destroy();
      done({ code: 'ETIMEDOUT', message: `no answer within ${ctx.timeoutMs} ms` });
    });
    req.on('error', (e) => done(describeFailure(e, false, ctx.timeoutMs)));
    req.end();
  });
}

/** Runs the upstream checks, targets in parallel. */
export async function checkUpstreams(ctx: DoctorContext): Promise<Finding[]> {
  const targets = upstreamTargets(ctx);
  const results = await Promise.all(targets.map((t) => head(ctx, t)));
  return targets.map((t, i) => {
    const r = results[i] as HeadResult;
    const u = new URL(t.url);
    const path = t.cfg.health_check?.path ?? (u.pathname || '/');
    if ('code' in r) {
      const tlsProblem = /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|ECA/.test(r.code);
      return finding.error(
        tlsProblem ? 'upstream.tls' : 'upstream.reachable',
        t.subject,
        tlsProblem ? `the upstream's TLS certificate is not accepted` : `the upstream cannot be reached`,
        `${t.url}: ${r.message.includes(r.code) ? r.message : `${r.code}: ${r.message}`}`,
        tlsProblem
          ? `set ${t.subject.replace(/\.targets\[\d+\]$/, '')}.tls.ca to the CA that signed it (and tls.server_name when the URL uses an IP address)`
          : r.code === 'ECONNREFUSED'
            ? 'nothing listens there: start the app, or correct the host/port in the URL'
            : 'check the host name, the firewall between Gatehouse and the app, and that the app answers within the timeout',
      );
    }
    const evidence = `HEAD ${path} → HTTP ${r.status} in ${r.ms} ms`;
    if (r.status >= 500)
      return finding.warning(
        'upstream.reachable',
        t.subject,
        'the upstream answers, with a server error',
        `${t.url}: ${evidence}`,
        'the app is up but failing: check its logs (health_check.path can point at a page that answers 200)',
      );
    return finding.ok('upstream.reachable', t.subject, 'the upstream answers', `${t.url}: ${evidence}`);
  });
}
