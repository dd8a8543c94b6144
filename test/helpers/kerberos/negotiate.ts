import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import type { Reply } from '../http.js';

interface KerberosClient {
  step(challenge: string): Promise<string>;
  readonly contextComplete: boolean;
}
interface KerberosModule {
  initializeClient(service: string, opts: { principal?: string; mechOID?: number }): Promise<KerberosClient>;
  GSS_MECH_OID_SPNEGO: number;
}

/** The optional native `kerberos` npm package, or a thrown error with the install hint. */
export function loadKerberos(): KerberosModule {
  try {
    return createRequire(import.meta.url)('kerberos') as KerberosModule;
  } catch (e) {
    throw new Error(
      `the optional npm package "kerberos" is not built (${(e as Error).message}): install libkrb5-dev and build-essential (bash scripts/test-deps.sh), then npm ci`,
    );
  }
}

/**
 * An SPNEGO token for `Authorization: Negotiate` as `principal`, from the credential cache
 * collection `ccache` (e.g. `DIR:/tmp/x` holding the proxied ticket of `kvno -U … -P`), for the
 * GSS host-based service `service` (default `HTTP@iis.corp.test`). Sets KRB5CCNAME and
 * KRB5_CONFIG of this process (the library reads them there).
 */
export async function negotiateToken(
  ccache: string,
  principal: string,
  krb5Conf: string,
  service = 'HTTP@iis.corp.test',
): Promise<string> {
  const k = loadKerberos();
  process.env.KRB5CCNAME = ccache;
  process.env.KRB5_CONFIG = krb5Conf;
  const client = await k.initializeClient(service, { principal, mechOID: k.GSS_MECH_OID_SPNEGO });
  return client.step('');
}

/** A GET through `agent` (keep-alive: several requests can share one connection). */
export function getVia(
  agent: Agent,
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          json: <T>() => JSON.parse(body) as T,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
