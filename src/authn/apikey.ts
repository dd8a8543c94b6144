import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { GatehouseError } from '../errors/index.js';
import type { RequestContext } from '../pipeline/context.js';
import type { CompileContext } from '../pipeline/feature.js';
import { withMemo, type Principal } from '../pipeline/principal.js';
import { AUTHN_NONE, type Authenticator, type AuthnResult } from '../pipeline/stages.js';
import { apiKeyEntrySchema, type ApiKeyEntry, type ApiKeysConfig } from '../limits/schema.js';
import type { AuthenticatorFactory } from './factory.js';

/** `sha256:<hex>` of an API key: the only form in which keys are configured. */
export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

interface KeyRecord {
  readonly digest: Buffer;
  readonly principal: Principal;
  /** Epoch ms, or Infinity. */
  readonly expiresAt: number;
}

/** The compiled key table: digest (hex) → record. Built once per config load. */
export interface ApiKeyTable {
  readonly header: string;
  readonly queryParam: string | undefined;
  readonly forwardKey: boolean;
  readonly byDigest: ReadonlyMap<string, KeyRecord>;
}

function toPrincipal(e: ApiKeyEntry): Principal {
  const hex = e.hash.slice('sha256:'.length);
  return Object.freeze(
    withMemo({
      kind: 'client',
      subject: e.client_id,
      provider: 'apikey',
      method: 'apikey',
      name: e.name,
      groups: [],
      roles: Object.freeze([...e.roles]),
      scopes: Object.freeze([...e.scopes]),
      clientId: e.client_id,
      credentialId: e.id ?? `apikey:${hex.slice(0, 12)}`,
      claims: Object.freeze({
        ...e.attributes,
        sub: e.client_id,
        client_id: e.client_id,
        ...(e.name === undefined ? {} : { name: e.name }),
        scope: e.scopes.join(' '),
        roles: [...e.roles],
      }),
    }),
  );
}

const fileSchema = z.union([
  z.array(apiKeyEntrySchema),
  z.object({ keys: z.array(apiKeyEntrySchema) }).strict(),
]);

function loadFile(path: string, cctx: CompileContext): ApiKeyEntry[] {
  const full = isAbsolute(path) ? path : resolve(cctx.baseDir, path);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(full, 'utf8'));
  } catch (e) {
    cctx.issue('api_keys.file', `cannot read ${full}: ${(e as Error).message}`);
    return [];
  }
  const r = fileSchema.safeParse(doc);
  if (!r.success) {
    for (const i of r.error.issues) cctx.issue(`api_keys.file(${path}).${i.path.join('.')}`, i.message);
    return [];
  }
  return Array.isArray(r.data) ? r.data : r.data.keys;
}

/** Compiles the `api_keys` section (inline keys plus the keys file) into a lookup table. */
export function compileApiKeys(cfg: ApiKeysConfig, cctx: CompileContext): ApiKeyTable {
  const byDigest = new Map<string, KeyRecord>();
  const entries: [string, ApiKeyEntry][] = cfg.keys.map((e, i) => [`api_keys.keys[${i}]`, e]);
  if (cfg.file !== undefined)
    for (const [i, e] of loadFile(cfg.file, cctx).entries())
      entries.push([`api_keys.file(${cfg.file})[${i}]`, e]);
  for (const [path, e] of entries) {
    const hex = e.hash.slice('sha256:'.length);
    if (byDigest.has(hex)) {
      cctx.issue(`${path}.hash`, 'the same key hash appears twice');
      continue;
    }
    const expiresAt = e.expires_at === undefined ? Infinity : Date.parse(e.expires_at);
    byDigest.set(hex, { digest: Buffer.from(hex, 'hex'), principal: toPrincipal(e), expiresAt });
  }
  if (byDigest.size === 0) cctx.issue('api_keys', 'no API keys configured (keys or file)', 'warning');
  if (cfg.query_param !== undefined)
    cctx.logger.warn(
      { param: cfg.query_param },
      'api_keys.query_param: API keys accepted in URLs end up in access logs and browser history',
    );
  return {
    header: cfg.header.toLowerCase(),
    queryParam: cfg.query_param,
    forwardKey: cfg.forward_key,
    byDigest,
  };
}

/** Finds `name` in a raw query string (with leading `?`); returns its value and the query without it. */
function takeQueryParam(
  query: string,
  name: string,
): { value: string | undefined; rest: string; count: number } {
  if (query.length < 2) return { value: undefined, rest: query, count: 0 };
  const kept: string[] = [];
  let value: string | undefined;
  let count = 0;
  for (const part of query.slice(1).split('&')) {
    const eq = part.indexOf('=');
    let k: string;
    try {
      k = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
    } catch {
      kept.push(part);
      continue;
    }
    if (k !== name) {
      kept.push(part);
      continue;
    }
    count++;
    try {
      value = decodeURIComponent((eq < 0 ? '' : part.slice(eq + 1)).replace(/\+/g, ' '));
    } catch {
      value = '';
    }
  }
  return { value, rest: kept.length ? `?${kept.join('&')}` : '', count };
}

/**
 * The `apikey` authenticator (Apigee VerifyAPIKey). Reads the key from the configured header
 * (or the opted-in query parameter), hashes it, looks the hash up and compares digests with
 * `timingSafeEqual`. No key → `none` (next authenticator); an unknown, expired or repeated
 * key → 401 `GH_APIKEY_INVALID`. The key is removed before forwarding unless `forward_key`.
 */
export class ApiKeyAuthenticator implements Authenticator {
  readonly id = 'apikey';
  readonly wwwAuthenticate: string;

  constructor(private readonly table: ApiKeyTable) {
    this.wwwAuthenticate = `APIKey header="${table.header}"`;
  }

  authenticate(ctx: RequestContext): AuthnResult {
    const t = this.table;
    const raw = ctx.req.headers[t.header];
    let key: string | undefined;
    if (raw !== undefined) {
      if (Array.isArray(raw))
        throw new GatehouseError('GH_APIKEY_INVALID', `several ${t.header} headers`, {
          headers: { 'WWW-Authenticate': this.wwwAuthenticate },
        });
      key = raw;
      if (!t.forwardKey) ctx.drop.add(t.header);
    } else if (t.queryParam !== undefined) {
      const q = takeQueryParam(ctx.query, t.queryParam);
      if (q.count > 1)
        throw new GatehouseError('GH_APIKEY_INVALID', `several ${t.queryParam} query parameters`, {
          headers: { 'WWW-Authenticate': this.wwwAuthenticate },
        });
      key = q.value;
      if (key !== undefined && !t.forwardKey) ctx.query = q.rest;
    }
    if (key === undefined) return AUTHN_NONE;
    const digest = createHash('sha256').update(key, 'utf8').digest();
    const rec = t.byDigest.get(digest.toString('hex'));
    if (rec === undefined || !timingSafeEqual(rec.digest, digest))
      throw new GatehouseError('GH_APIKEY_INVALID', 'unknown API key', {
        headers: { 'WWW-Authenticate': this.wwwAuthenticate },
        reasons: ['apikey.unknown'],
      });
    if (Date.now() >= rec.expiresAt)
      throw new GatehouseError('GH_APIKEY_INVALID', `API key ${rec.principal.credentialId} expired`, {
        headers: { 'WWW-Authenticate': this.wwwAuthenticate },
        reasons: ['apikey.expired'],
      });
    return { kind: 'ok', principal: rec.principal };
  }
}

const TABLE = 'authn.apikey.table';

/** Registry factory for `auth: apikey`: compiles the key table once per config load. */
export const apiKeyFactory: AuthenticatorFactory = (_route, keyPath, cctx) => {
  const cfg = cctx.config.api_keys;
  if (!cfg) {
    cctx.issue(`${keyPath}.auth`, '"apikey" needs a top-level `api_keys` section (header, keys or file)');
    return undefined;
  }
  let table = cctx.services.get(TABLE) as ApiKeyTable | undefined;
  if (!table) {
    table = compileApiKeys(cfg, cctx);
    cctx.services.set(TABLE, table);
  }
  return new ApiKeyAuthenticator(table);
};
