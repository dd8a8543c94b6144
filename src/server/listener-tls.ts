import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from '../config/load.js';
import type { ListenerConfig } from './listener-schema.js';

/** The `tls` block of a listener. */
export type ListenerTlsConfig = NonNullable<ListenerConfig['tls']>;

/** Secure-context material of a TLS listener, read from disk and checked. */
export interface ListenerTlsMaterial {
  /** For `https.createServer` and `server.setSecureContext`. */
  readonly context: SecureContextOptions;
  readonly requestCert: boolean;
  readonly rejectUnauthorized: boolean;
}

const fail = (path: string, message: string): never => {
  throw new ConfigError([{ path, message, severity: 'error' }]);
};

/**
 * Reads a listener's certificate and key (PEM `cert` + `key`, or a PKCS#12 `pfx` with
 * `passphrase`) and client CA, and builds a secure context once to prove they load: a wrong
 * passphrase, a file that is not PKCS#12, a key that does not match its certificate or an
 * unreadable file throws {@link ConfigError} naming the key (`server.listeners[1].tls.passphrase`).
 */
export function loadListenerTls(tls: ListenerTlsConfig, baseDir: string, i: number): ListenerTlsMaterial {
  const at = `server.listeners[${i}].tls`;
  const read = (p: string, key: string): Buffer => {
    try {
      return readFileSync(resolve(baseDir, p));
    } catch (e) {
      return fail(
        `${at}.${key}`,
        `cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  };
  const wantCert = tls.client_certificate !== 'none';
  if (wantCert && !tls.client_ca)
    fail(`${at}.client_ca`, 'required when client_certificate is request or require');
  const context: SecureContextOptions = {
    minVersion: tls.min_version,
    ...(tls.pfx !== undefined
      ? { pfx: read(tls.pfx, 'pfx') }
      : { cert: read(tls.cert as string, 'cert'), key: read(tls.key as string, 'key') }),
    ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
    ...(tls.client_ca ? { ca: read(tls.client_ca, 'client_ca') } : {}),
  };
  try {
    createSecureContext(context);
  } catch (e) {
    const msg = (e as Error).message;
    if (/mac verify failure|bad decrypt|bad password|maybe wrong password/i.test(msg)) {
      fail(
        `${at}.passphrase`,
        tls.passphrase === undefined
          ? `${tls.pfx ?? tls.key} is encrypted: set passphrase (e.g. \${PFX_PASSPHRASE})`
          : `wrong passphrase for ${tls.pfx ?? tls.key}`,
      );
    }
    if (tls.pfx !== undefined) {
      const legacy = /unsupported|RC2|legacy/i.test(msg)
        ? ' (a legacy RC2/3DES export: re-export it with AES-256, e.g. Export-PfxCertificate -CryptoAlgorithmOption AES256_SHA256)'
        : '';
      fail(`${at}.pfx`, `cannot load ${tls.pfx} as PKCS#12: ${msg}${legacy}`);
    }
    if (/key values mismatch/i.test(msg)) fail(`${at}.key`, `${tls.key} is not the key of ${tls.cert}`);
    fail(`${at}.cert`, `cannot load ${tls.cert} / ${tls.key}: ${msg}`);
  }
  return { context, requestCert: wantCert, rejectUnauthorized: tls.client_certificate === 'require' };
}
