import { createRequire } from 'node:module';
import type { H1Exchange, H1Handler } from '../upstream/h1/client.js';
import { GatehouseError } from '../errors/index.js';

/** The part of the npm `kerberos` package (GSS-API bindings) Gatehouse uses. */
export interface GssClient {
  step(challenge: string): Promise<string>;
}
/** The loaded `kerberos` module. */
export interface Gss {
  initializeClient(
    service: string,
    opts: { principal?: string; mechOID?: number; flags?: number },
  ): Promise<GssClient>;
  readonly GSS_MECH_OID_SPNEGO: number;
  readonly GSS_C_MUTUAL_FLAG: number;
  readonly GSS_C_SEQUENCE_FLAG: number;
}

/** Install hint for the optional native module. */
export const GSS_HINT =
  'auth.kerberos needs the optional npm package "kerberos" (native, built against MIT krb5): apt-get install libkrb5-dev build-essential, then npm_config_build_from_source=true npm install kerberos';

let loaded: Gss | string | undefined;

/**
 * Loads the native `kerberos` module once; a string says why it cannot be used. `load` replaces
 * the loader (tests), and is not cached.
 */
export function loadGss(load?: () => unknown): Gss | string {
  if (load === undefined && loaded !== undefined) return loaded;
  let result: Gss | string;
  try {
    result = (load ?? (() => createRequire(import.meta.url)('kerberos')))() as Gss;
  } catch (e) {
    result = `${GSS_HINT} (${(e as Error).message.split('\n')[0] ?? 'cannot load it'})`;
  }
  if (load === undefined) loaded = result;
  return result;
}

/** `HTTP/host` → the GSS host-based service name `HTTP@host`. */
export function gssService(spn: string): string {
  return spn.replace('/', '@');
}

const NEGOTIATE = /^Negotiate(?:\s+([A-Za-z0-9+/=]+))?\s*$/i;

/**
 * Starts a SPNEGO context for `user` (its cache is picked from the `DIR:` collection by
 * principal) and returns the client and its first token. No KDC request happens here: the
 * service ticket is already in the user's cache.
 */
export async function negotiateToken(
  gss: Gss,
  service: string,
  user: string,
): Promise<{ client: GssClient; token: string }> {
  const client = await gss.initializeClient(service, {
    principal: user,
    mechOID: gss.GSS_MECH_OID_SPNEGO,
    flags: gss.GSS_C_MUTUAL_FLAG | gss.GSS_C_SEQUENCE_FLAG,
  });
  return { client, token: await client.step('') };
}

/**
 * Wraps the handler of every request to a Kerberos upstream. A 401 with a Negotiate challenge
 * means the upstream refused our ticket (or did not keep the connection's authentication): it
 * becomes 502 `GH_KERBEROS_UPSTREAM_REJECTED` and the connection is closed, never relayed (a
 * browser would start Windows authentication against Gatehouse). On the request that carried
 * our token, a server token (`WWW-Authenticate: Negotiate <token>`) is stepped into the client
 * context before anything is relayed; one that does not verify fails with 502
 * `GH_KERBEROS_MUTUAL_AUTH_FAILED`. The server's Negotiate fields are never relayed.
 */
export class NegotiateHandler implements H1Handler, H1Exchange {
  exchange: H1Exchange | undefined;
  private client: GssClient | undefined;
  private held: { status: number; text: string; raw: string[] } | undefined;
  private readonly chunks: Array<[Buffer, boolean]> = [];
  private completed = false;
  private failed = false;

  constructor(
    private readonly inner: H1Handler,
    private readonly upstream: string,
  ) {}

  /** The client went away: nothing more is relayed, even a response held for verification. */
  abort(): void {
    this.failed = true;
    this.exchange?.abort();
  }

  resume(): void {
    if (this.held === undefined) this.exchange?.resume();
  }

  /** This request carries the connection's token: verify the server's answer with `client`. */
  expectMutual(client: GssClient): void {
    this.client = client;
  }

  onHeaders(status: number, text: string, raw: string[]): void {
    let token: string | undefined;
    let challenged = false;
    const kept: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i] as string;
      const value = raw[i + 1] as string;
      const m =
        name.length === 16 && name.toLowerCase() === 'www-authenticate' ? NEGOTIATE.exec(value) : null;
      if (m === null) kept.push(name, value);
      else {
        challenged = true;
        token ??= m[1];
      }
    }
    if (status === 401 && challenged)
      return this.fail(
        new GatehouseError(
          'GH_KERBEROS_UPSTREAM_REJECTED',
          `upstream ${this.upstream} answered 401 Negotiate${this.client ? ' to our token' : ' on an authenticated connection'}`,
        ),
      );
    const client = this.client;
    if (client === undefined || token === undefined) return this.inner.onHeaders(status, text, kept);
    this.held = { status, text, raw: kept };
    client.step(token).then(
      () => this.release(),
      (e: Error) =>
        this.fail(
          new GatehouseError('GH_KERBEROS_MUTUAL_AUTH_FAILED', `upstream ${this.upstream}: ${e.message}`),
        ),
    );
  }

  onData(chunk: Buffer, last: boolean): boolean {
    if (this.failed) return false;
    if (this.held === undefined) return this.inner.onData(chunk, last);
    this.chunks.push([chunk, last]);
    return false;
  }

  onComplete(): void {
    if (this.failed) return;
    if (this.held !== undefined) this.completed = true;
    else this.inner.onComplete();
  }

  onError(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.inner.onError(err);
  }

  private release(): void {
    const held = this.held;
    if (this.failed || held === undefined) return;
    this.held = undefined;
    this.inner.onHeaders(held.status, held.text, held.raw);
    for (const [chunk, last] of this.chunks.splice(0)) this.inner.onData(chunk, last);
    if (this.completed) this.inner.onComplete();
    else this.exchange?.resume();
  }

  private fail(err: GatehouseError): void {
    if (this.failed) return;
    this.failed = true;
    this.exchange?.abort();
    this.inner.onError(err);
  }
}
