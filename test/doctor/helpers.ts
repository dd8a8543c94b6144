import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { stringify } from 'yaml';
import { generateIdpKey, type IdpKey } from '../helpers/idp-server.js';
import type { DoctorReport, Finding } from '../../src/doctor/report.js';

const entry = fileURLToPath(new URL('../helpers/cli-source.ts', import.meta.url));

/** What one `gatehouse doctor` process printed and its exit status. */
export interface DoctorRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real CLI (`node --import tsx … doctor ARGS`) as a child process. */
export function doctor(args: readonly string[], opts: { stdin?: string } = {}): Promise<DoctorRun> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', entry, 'doctor', ...args],
      { timeout: 60_000, env: { ...process.env, NO_PROXY: '*', no_proxy: '*' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
    if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
    else child.stdin?.end();
  });
}

/** Runs the CLI with `--json` and parses the report. */
export async function doctorJson(args: readonly string[]): Promise<{ run: DoctorRun; report: DoctorReport }> {
  const run = await doctor([...args, '--json']);
  let report: DoctorReport;
  try {
    report = JSON.parse(run.stdout) as DoctorReport;
  } catch {
    throw new Error(`doctor printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
  return { run, report };
}

/** The findings with `id` (and, when given, `subject`). */
export function findings(report: DoctorReport, id: string, subject?: string): Finding[] {
  return report.findings.filter((f) => f.id === id && (subject === undefined || f.subject === subject));
}

/** The one finding with `id`; throws listing the report when there is not exactly one. */
export function only(report: DoctorReport, id: string, subject?: string): Finding {
  const f = findings(report, id, subject);
  if (f.length !== 1)
    throw new Error(
      `expected one ${id} finding, got ${f.length}:\n${report.findings.map((x) => `${x.severity} ${x.id} ${x.subject}: ${x.what}`).join('\n')}`,
    );
  return f[0] as Finding;
}

/** A temp directory for config files; `cleanup()` removes it. */
export function workdir(): { dir: string; write(name: string, config: unknown): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gh-doctor-'));
  return {
    dir,
    write(name, config) {
      const p = join(dir, name);
      writeFileSync(p, typeof config === 'string' ? config : stringify(config));
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Options of {@link startOpenIdServer}. */
export interface OpenIdServerOptions {
  /** `issuer` published in the discovery document (default: the server's origin). */
  readonly issuerInDocument?: string;
  /** Added to the real time in the `Date` header of every answer (a skewed IdP clock). */
  readonly dateOffsetMs?: number;
  /** Extra JWKS members published as they are (unusable keys). */
  readonly extraJwks?: readonly Record<string, unknown>[];
  /** Client credentials grant at `/token`: this client and secret get a token for `audience`. */
  readonly client?: { readonly id: string; readonly secret: string; readonly audience: string };
}

/** A jose-built OpenID provider: discovery, JWKS and the client credentials grant. */
export interface OpenIdServer {
  readonly origin: string;
  readonly discoveryUrl: string;
  readonly key: IdpKey;
  close(): Promise<void>;
}

/**
 * A small real OpenID provider on 127.0.0.1:0 for the cases the shared IdP helper does not
 * cover: a discovery document naming another issuer (Entra v1/v2, tenant name vs id), a skewed
 * `Date` header, arbitrary JWKS members, and the client credentials grant.
 */
export async function startOpenIdServer(opts: OpenIdServerOptions = {}): Promise<OpenIdServer> {
  const key = await generateIdpKey('RS256');
  const sockets = new Set<Socket>();
  let origin = '';
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const s = JSON.stringify(body);
    const date = new Date(Date.now() + (opts.dateOffsetMs ?? 0)).toUTCString();
    res.sendDate = false;
    res.writeHead(status, {
      'content-type': 'application/json',
      date,
      'content-length': Buffer.byteLength(s),
    });
    res.end(s);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (path === '/.well-known/openid-configuration')
        return send(res, 200, {
          issuer: opts.issuerInDocument ?? origin,
          jwks_uri: `${origin}/jwks`,
          authorization_endpoint: `${origin}/authorize`,
          token_endpoint: `${origin}/token`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
        });
      if (path === '/jwks') return send(res, 200, { keys: [key.jwk, ...(opts.extraJwks ?? [])] });
      if (path === '/token' && req.method === 'POST' && opts.client) {
        const c = opts.client;
        const basic = `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`;
        if (req.headers.authorization !== basic) return send(res, 401, { error: 'invalid_client' });
        const form = new URLSearchParams(body);
        if (form.get('grant_type') !== 'client_credentials')
          return send(res, 400, { error: 'unsupported_grant_type' });
        void new SignJWT({ azp: c.id, scope: form.get('scope') ?? '' })
          .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'at+jwt' })
          .setIssuer(opts.issuerInDocument ?? origin)
          .setAudience(c.audience)
          .setSubject(c.id)
          .setIssuedAt()
          .setExpirationTime('10m')
          .sign(key.privateKey)
          .then((t) => send(res, 200, { access_token: t, token_type: 'Bearer', expires_in: 600 }));
        return;
      }
      send(res, 404, { error: 'not_found' });
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    discoveryUrl: `${origin}/.well-known/openid-configuration`,
    key,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
