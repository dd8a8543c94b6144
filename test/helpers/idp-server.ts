import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { KeyObject, constants, createHmac, randomUUID, sign as nodeSign } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';

/** Asymmetric algorithms the fake IdP can sign with. */
export type IdpAlg =
  'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

/** A signing key of the fake IdP. */
export interface IdpKey {
  readonly kid: string;
  readonly alg: IdpAlg;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public JWK as published (with kid, alg, use). */
  readonly jwk: JWK;
}

/** How the IdP answers: normally, with 503, by closing the connection, or never. */
export type IdpOutage = 'none' | '503' | 'close' | 'hang';

export interface StartIdpOptions {
  /** Path appended to the origin to form the issuer (e.g. `/tenant/v2.0`). Default ''. */
  readonly issuerPath?: string;
  /** Keys created at start. Default: one RS256 key. */
  readonly algs?: readonly IdpAlg[];
  /** Default `aud` of {@link IdpServer.token}. Default `api://gatehouse-test`. */
  readonly audience?: string;
  /** Introspection client credentials. Default `gatehouse` / `introspection-secret`. */
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Serve https with this certificate (PEM) instead of plain http. */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Host name in the origin (and so the issuer and endpoint URLs). Default `127.0.0.1`. */
  readonly host?: string;
}

export interface IdpServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly issuer: string;
  readonly discoveryUrl: string;
  readonly jwksUri: string;
  readonly introspectionUrl: string;
  readonly audience: string;
  /** Published keys, in JWKS order. */
  readonly keys: IdpKey[];
  /** Requests served per endpoint (`jwks`, `discovery`, `introspect`), outages included. */
  readonly counts: { jwks: number; discovery: number; introspect: number };
  /** Authorization header / form of the last introspection call. */
  lastIntrospection: { authorization?: string | undefined; form: URLSearchParams } | undefined;
  outage: IdpOutage;
  /** Delay before every response (slow IdP). */
  delayMs: number;
  /** Generates a key; published unless `publish: false`. */
  addKey(
    alg?: IdpAlg,
    opts?: { kid?: string; publish?: boolean; jwkExtra?: Record<string, unknown> },
  ): Promise<IdpKey>;
  /** Publishes a new key and withdraws all others. */
  rotate(alg?: IdpAlg): Promise<IdpKey>;
  removeKey(kid: string): void;
  /** A valid access token (jose SignJWT) with sensible defaults, overridden by `claims`. */
  token(
    claims?: Record<string, unknown>,
    opts?: { key?: IdpKey; header?: Record<string, unknown> },
  ): Promise<string>;
  /** Signs any header/payload with node:crypto (no validation: for attack tokens). Unknown `alg` (e.g. `none`) → empty signature. */
  signRaw(
    header: Record<string, unknown>,
    payload: Record<string, unknown> | string,
    key?: IdpKey | { hmacSecret: string | Buffer },
  ): string;
  /** Standard claims: iss, aud, sub, iat, exp (+1h), jti. */
  claims(extra?: Record<string, unknown>): Record<string, unknown>;
  /** Registers an opaque token for introspection; unknown tokens are inactive. */
  setOpaque(token: string, response: Record<string, unknown>): void;
  close(): Promise<void>;
}

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/** Signs `input` like a JWS with `alg` (no checks). */
export function signJws(alg: string, input: string, key: KeyObject | Buffer | string): Buffer {
  const data = Buffer.from(input);
  const bits = alg.slice(-3);
  if (alg.startsWith('HS'))
    return createHmac(HASH[bits] as string, key as Buffer)
      .update(data)
      .digest();
  const k = key as KeyObject;
  if (alg === 'EdDSA' || alg === 'Ed25519') return nodeSign(null, data, k);
  if (alg.startsWith('ES'))
    return nodeSign(HASH[bits] as string, data, { key: k, dsaEncoding: 'ieee-p1363' });
  if (alg.startsWith('PS')) {
    return nodeSign(HASH[bits] as string, data, {
      key: k,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(bits) / 8,
    });
  }
  return nodeSign(HASH[bits] as string, data, k);
}

/** Generates an IdP key with jose (extractable), returning node KeyObjects and the public JWK. */
export async function generateIdpKey(
  alg: IdpAlg = 'RS256',
  kid: string = randomUUID(),
  jwkExtra: Record<string, unknown> = {},
): Promise<IdpKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig', ...jwkExtra };
  return { kid, alg, privateKey: KeyObject.from(privateKey), publicKey: KeyObject.from(publicKey), jwk };
}

/**
 * A real OpenID provider stand-in on 127.0.0.1:0: discovery, JWKS (rotation, outages, slow
 * answers, fetch counts) and RFC 7662 introspection with client authentication.
 */
export async function startIdp(opts: StartIdpOptions = {}): Promise<IdpServer> {
  const sockets = new Set<Socket>();
  const opaque = new Map<string, Record<string, unknown>>();
  const clientId = opts.clientId ?? 'gatehouse';
  const clientSecret = opts.clientSecret ?? 'introspection-secret';
  // eslint-disable-next-line prefer-const
  let idp: IdpServer;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const s = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
    res.end(s);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    const issuerPath = opts.issuerPath ?? '';
    let kind: keyof IdpServer['counts'] | undefined;
    if (path === `${issuerPath}/.well-known/openid-configuration`) kind = 'discovery';
    else if (path === '/jwks') kind = 'jwks';
    else if (path === '/introspect' && req.method === 'POST') kind = 'introspect';
    if (!kind) return send(res, 404, { error: 'not_found' });
    idp.counts[kind]++;
    if (idp.outage === 'hang') return;
    if (idp.outage === 'close') return req.socket.destroy();
    if (idp.outage === '503') return send(res, 503, { error: 'temporarily_unavailable' });
    if (kind === 'discovery') {
      return send(res, 200, {
        issuer: idp.issuer,
        jwks_uri: idp.jwksUri,
        introspection_endpoint: idp.introspectionUrl,
        authorization_endpoint: `${idp.origin}/authorize`,
        token_endpoint: `${idp.origin}/token`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (kind === 'jwks') return send(res, 200, { keys: idp.keys.map((k) => k.jwk) });
    const form = new URLSearchParams(body);
    idp.lastIntrospection = { authorization: req.headers.authorization, form };
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
    const authed =
      req.headers.authorization === basic ||
      (form.get('client_id') === clientId && form.get('client_secret') === clientSecret);
    if (!authed) return send(res, 401, { error: 'invalid_client' });
    return send(res, 200, opaque.get(form.get('token') ?? '') ?? { active: false });
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const go = () => handle(req, res, Buffer.concat(chunks).toString('utf8'));
      if (idp.delayMs > 0) setTimeout(go, idp.delayMs);
      else go();
    });
  };
  const server = opts.tls ? createHttpsServer({ ...opts.tls }, listener) : createServer(listener);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const origin = `${opts.tls ? 'https' : 'http'}://${opts.host ?? '127.0.0.1'}:${port}`;
  const issuer = `${origin}${opts.issuerPath ?? ''}`;
  const audience = opts.audience ?? 'api://gatehouse-test';
  const keys: IdpKey[] = [];
  for (const alg of opts.algs ?? ['RS256']) keys.push(await generateIdpKey(alg));

  idp = {
    port,
    origin,
    issuer,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    jwksUri: `${origin}/jwks`,
    introspectionUrl: `${origin}/introspect`,
    audience,
    keys,
    counts: { jwks: 0, discovery: 0, introspect: 0 },
    lastIntrospection: undefined,
    outage: 'none',
    delayMs: 0,
    async addKey(alg = 'RS256', o = {}) {
      const k = await generateIdpKey(alg, o.kid, o.jwkExtra);
      if (o.publish !== false) keys.push(k);
      return k;
    },
    async rotate(alg = 'RS256') {
      const k = await generateIdpKey(alg);
      keys.splice(0, keys.length, k);
      return k;
    },
    removeKey(kid) {
      const i = keys.findIndex((k) => k.kid === kid);
      if (i >= 0) keys.splice(i, 1);
    },
    claims(extra = {}) {
      const now = Math.floor(Date.now() / 1000);
      return {
        iss: issuer,
        aud: audience,
        sub: 'user-1',
        iat: now,
        exp: now + 3600,
        jti: randomUUID(),
        ...extra,
      };
    },
    async token(extra = {}, o = {}) {
      const key = o.key ?? (keys[0] as IdpKey);
      return new SignJWT(idp.claims(extra) as never)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...o.header })
        .sign(key.privateKey);
    },
    signRaw(header, payload, key = keys[0] as IdpKey) {
      const input = `${b64(JSON.stringify(header))}.${typeof payload === 'string' ? b64(payload) : b64(JSON.stringify(payload))}`;
      const alg = String(header.alg);
      if (!/^(HS|RS|PS|ES|Ed)/.test(alg)) return `${input}.`;
      const material = 'hmacSecret' in key ? Buffer.from(key.hmacSecret) : key.privateKey;
      return `${input}.${b64(signJws(alg, input, material))}`;
    },
    setOpaque(token, response) {
      opaque.set(token, response);
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  return idp;
}
