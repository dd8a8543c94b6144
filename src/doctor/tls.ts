/**
 * Certificate expiry: the listeners' certificate files and the certificates https upstreams
 * present, reported when expired or expiring within `--expiry-days` (default 30).
 * @module
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, createSecureContext, TLSSocket } from 'node:tls';
import { Socket } from 'node:net';
import { resolve } from 'node:path';
import type { DoctorContext } from './context.js';
import { finding, humanDuration, type Finding } from './report.js';
import { upstreamTargets, upstreamTls } from './upstream.js';

const DAY = 86_400_000;

/** The leaf certificate's subject, expiry and issuer, however it was obtained. */
interface CertInfo {
  readonly subject: string;
  readonly validTo: number;
  readonly validFrom: number;
}

/** Judges one certificate's dates. */
export function expiryFinding(ctx: DoctorContext, subject: string, source: string, c: CertInfo): Finding {
  const now = ctx.now();
  const left = c.validTo - now;
  const evidence = `${source}: ${c.subject}, valid until ${new Date(c.validTo).toISOString()}`;
  const renew =
    'renew the certificate and replace the file (Gatehouse picks it up on reload: SIGHUP or gatehouse reload)';
  if (left <= 0)
    return finding.error(
      'tls.expiry',
      subject,
      `the certificate expired ${humanDuration(-left)} ago`,
      evidence,
      renew,
    );
  if (c.validFrom > now)
    return finding.error(
      'tls.expiry',
      subject,
      `the certificate is not valid for another ${humanDuration(c.validFrom - now)}`,
      evidence,
      'check the clock of this machine, or the certificate dates',
    );
  if (left <= ctx.expiryDays * DAY)
    return finding.warning(
      'tls.expiry',
      subject,
      `the certificate expires in ${humanDuration(left)} (within ${ctx.expiryDays} days)`,
      evidence,
      renew,
    );
  return finding.ok(
    'tls.expiry',
    subject,
    `the certificate is valid for another ${humanDuration(left)}`,
    evidence,
  );
}

function fromX509(x: X509Certificate): CertInfo {
  return {
    subject: x.subject.replace(/\n/g, ', '),
    validTo: Date.parse(x.validTo),
    validFrom: Date.parse(x.validFrom),
  };
}

/** The leaf of a listener's PEM file or PKCS#12 bundle. */
function listenerCert(
  ctx: DoctorContext,
  tls: { cert?: string | undefined; pfx?: string | undefined; passphrase?: string | undefined },
): { info: CertInfo; source: string } {
  if (tls.cert !== undefined) {
    const pem = readFileSync(resolve(ctx.baseDir, tls.cert), 'utf8');
    return { info: fromX509(new X509Certificate(pem)), source: tls.cert };
  }
  const pfx = readFileSync(resolve(ctx.baseDir, tls.pfx as string));
  const secureContext = createSecureContext({ pfx, passphrase: tls.passphrase });
  const sock = new TLSSocket(new Socket(), { secureContext, isServer: true });
  try {
    const c = sock.getCertificate();
    if (!c || !('valid_to' in c)) throw new Error('no certificate in the PKCS#12 file');
    return {
      info: {
        subject: `CN=${String(c.subject?.CN ?? '?')}`,
        validTo: Date.parse(c.valid_to),
        validFrom: Date.parse(c.valid_from),
      },
      source: tls.pfx as string,
    };
  } finally {
    sock.destroy();
  }
}

function peerCert(
  ctx: DoctorContext,
  url: URL,
  tls: ReturnType<typeof upstreamTls>,
): Promise<CertInfo | undefined> {
  return new Promise((done) => {
    const s = connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 443),
      servername: tls.servername ?? (/^[\d.:[\]]+$/.test(url.hostname) ? undefined : url.hostname),
      ca: tls.ca,
      // Read-only probe of the certificate's dates (nothing is sent; the socket is destroyed at
      // once): an expired or untrusted certificate must still be read to be reported. Trust is
      // reported by the upstream reachability check, which verifies.
      rejectUnauthorized: false,
      timeout: ctx.timeoutMs,
    });
    const finish = (v: CertInfo | undefined) => {
      s.destroy();
      done(v);
    };
    s.once('secureConnect', () => {
      const c = s.getPeerCertificate();
      finish(
        c && c.valid_to
          ? {
              subject: `CN=${String(c.subject?.CN ?? '?')}`,
              validTo: Date.parse(c.valid_to),
              validFrom: Date.parse(c.valid_from),
            }
          : undefined,
      );
    });
    s.once('timeout', () => finish(undefined));
    s.once('error', () => finish(undefined));
  });
}

/** Runs the certificate checks: listeners' files, then https upstream targets. */
export async function checkTls(ctx: DoctorContext): Promise<Finding[]> {
  const out: Finding[] = [];
  ctx.config.server.listeners.forEach((l, i) => {
    if (!l.tls) return;
    const subject = `server.listeners[${i}]${l.name ? ` (${l.name})` : ''}.tls`;
    try {
      const { info, source } = listenerCert(ctx, l.tls);
      out.push(expiryFinding(ctx, subject, source, info));
    } catch (e) {
      out.push(
        finding.error(
          'tls.listener',
          subject,
          'the listener certificate cannot be read',
          (e as Error).message,
          'check the cert/pfx path and passphrase',
        ),
      );
    }
  });
  const https = upstreamTargets(ctx).filter((t) => t.url.startsWith('https:'));
  const certs = await Promise.all(
    https.map(async (t) => {
      try {
        return await peerCert(ctx, new URL(t.url), upstreamTls(ctx, t.cfg));
      } catch {
        return undefined;
      }
    }),
  );
  https.forEach((t, i) => {
    const c = certs[i];
    if (c) out.push(expiryFinding(ctx, t.subject, t.url, c));
  });
  return out;
}
