import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { DestinationStream } from 'pino';
import { validateConfig, ConfigError } from '../config/load.js';
import { Gateway } from '../server/gateway.js';
import {
  DEMO_USERS,
  PARTNER_USERS,
  startDevProvider,
  type DevProvider,
  type DevProviderOptions,
} from '../dev/provider.js';
import { startDemoApp, type DemoApp } from '../dev/demo-app.js';
import { JWKS_PATH } from '../identity/feature.js';
import { type CliIo, parseFlags } from './io.js';

const CLIENT_ID = 'gatehouse-dev';

/** Options for tests: stop without a signal. */
export interface DevOptions {
  readonly signal?: AbortSignal;
  /** Called once everything listens, with the URL to open (the intranet host). */
  readonly onReady?: (url: string) => void;
}

/** A free loopback port (the redirect URI must be known before the gateway binds). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** The admin console's port in `gatehouse dev` (with `--port 0`: a free one). */
const DEV_ADMIN_PORT = 9901;

/** The demo's hosts on loopback: browsers resolve every `*.localhost` name to 127.0.0.1. */
export function devHosts(port: number): { login: string; intranet: string; payroll: string } {
  return {
    login: `http://login.localhost:${port}`,
    intranet: `http://intranet.localhost:${port}`,
    payroll: `http://payroll.localhost:${port}`,
  };
}

/** The admin console's URL in `gatehouse dev`: the login host, on the admin port. */
export function adminUrl(adminPort: number): string {
  return `http://login.localhost:${adminPort}`;
}

/**
 * The example configuration of `gatehouse dev` (the same as examples/dev.yaml): two apps on two
 * hostnames behind one sign-in at the login host (`session.sso`). Every intranet page needs a
 * signed-in user, `/admin` only admins; payroll only staff; identity reaches the apps as
 * X-Forwarded-User/-Email/-Groups.
 */
export function devConfig(
  port: number,
  issuer: string,
  apps: { intranet: string; payroll: string },
  clientSecret: string,
  sessionSecret: string,
  partners?: { issuer: string; clientSecret: string },
  assertion?: { keyDir: string },
  adminPort?: number,
): Record<string, unknown> {
  const hosts = devHosts(port);
  // Headers, plus (with `assertion`) the signed assertion: ES256 for the intranet, RS256 for payroll.
  const identityFor = (audience: string, alg?: 'RS256') => ({
    headers: {
      'X-Forwarded-User': '{sub}',
      'X-Forwarded-Email': '{email}',
      'X-Forwarded-Groups': '{groups}',
    },
    ...(assertion && { assertion: { audience, groups: 'all', roles: 'all', ...(alg && { alg }) } }),
  });
  const identity = identityFor(hosts.intranet);
  const intranet = { host: 'intranet.localhost' };
  return {
    server: { listeners: [{ address: '127.0.0.1', port }], external_url: hosts.login },
    log: { level: 'warn', access_log: false },
    ...(assertion && { identity: { assertion: { key_dir: assertion.keyDir } } }),
    // The admin console (docs/console.md) on its own loopback port, reached on the login host so
    // the login host's session cookie signs admins in; the "admins" group (alice) may open it.
    ...(adminPort !== undefined && {
      admin: {
        listen: `127.0.0.1:${adminPort}`,
        public_url: adminUrl(adminPort),
        access: { rules: [{ name: 'console-admins', effect: 'allow', when: { group: 'admins' } }] },
      },
    }),
    upstreams: { intranet: { url: apps.intranet }, payroll: { url: apps.payroll } },
    providers: {
      dev: { issuer, audiences: [CLIENT_ID], login_client_ids: [CLIENT_ID] },
      ...(partners && {
        partners: { issuer: partners.issuer, audiences: [CLIENT_ID], login_client_ids: [CLIENT_ID] },
      }),
    },
    session: {
      secrets: [sessionSecret],
      // Loopback demo over plain http: explicit, and logged at warn like every insecure_* switch.
      insecure_http_cookies: true,
      // One sign-in at login.localhost for both app hosts (docs/sso.md).
      sso: { hosts: [hosts.intranet, hosts.payroll] },
      login: {
        provider: 'dev',
        client_id: CLIENT_ID,
        client_secret: clientSecret,
        scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
        insecure_allow_http: true,
        ...(partners && { name: 'staff', label: 'Contoso staff' }),
      },
      // A second demo IdP with other users: the login host shows a chooser (docs/sso.md).
      ...(partners && {
        logins: {
          partners: {
            provider: 'partners',
            label: 'Fabrikam partners',
            client_id: CLIENT_ID,
            client_secret: partners.clientSecret,
            scopes: ['openid', 'profile', 'email', 'groups'],
            insecure_allow_http: true,
          },
        },
      }),
    },
    routes: [
      {
        name: 'admin',
        match: { ...intranet, path: '/admin' },
        upstream: 'intranet',
        auth: 'session',
        rules: [{ name: 'admins-only', effect: 'allow', when: { group: 'admins' } }],
        identity,
      },
      {
        name: 'whoami',
        match: { ...intranet, path: '/api' },
        upstream: 'intranet',
        auth: ['bearer', 'session'],
        allow: 'authenticated',
        identity,
      },
      {
        name: 'intranet',
        match: { ...intranet, path: '/' },
        upstream: 'intranet',
        auth: 'session',
        allow: 'authenticated',
        identity,
      },
      {
        name: 'payroll',
        match: { host: 'payroll.localhost', path: '/' },
        upstream: 'payroll',
        auth: 'session',
        rules: [{ name: 'staff-only', effect: 'allow', when: { group: 'staff' } }],
        identity: identityFor(hosts.payroll, 'RS256'),
      },
      {
        // The login host and http://127.0.0.1:<port> show the intranet too.
        name: 'home',
        match: { path: '/' },
        upstream: 'intranet',
        auth: 'session',
        allow: 'authenticated',
        identity,
      },
    ],
  };
}

function banner(
  port: number,
  idp: DevProvider,
  apps: { intranet: DemoApp; payroll: DemoApp },
  partnerIdp?: DevProvider,
  adminPort?: number,
): string {
  const row = (u: (typeof DEMO_USERS)[number]) =>
    `    ${u.id.padEnd(6)} ${u.password.padEnd(20)} groups: ${u.groups.join(', ') || '–'}`;
  const users =
    DEMO_USERS.map(row).join('\n') +
    (partnerIdp ? `\n  or, choosing "Fabrikam partners":\n${PARTNER_USERS.map(row).join('\n')}` : '');
  const h = devHosts(port);
  return `
  Gatehouse dev is running.

  Open ${h.intranet}/ and sign in as one of the demo users:
${users}

  Then open ${h.payroll}/ — no second sign-in: one login at ${h.login}
  serves both hosts, each with its own cookie. Signing out on either host signs you out of both.

  ${h.intranet}/admin is allowed for the "admins" group only (alice); payroll for "staff"
  (alice, bob); carol is refused with a reason. /.gatehouse/userinfo shows your session.
  (Browsers resolve *.localhost to this machine; Open http://127.0.0.1:${port}/ works too.)

${adminPort === undefined ? '' : `  Admin console:     ${adminUrl(adminPort)}/  (sign in as alice: the "admins" group; bob and carol are refused)\n`}
  Identity provider: ${idp.issuer}${partnerIdp ? ` (staff), ${partnerIdp.issuer} (partners)` : ''}  (embedded oidc-provider — FOR DEVELOPMENT ONLY: demo users,
  in-memory state, keys generated at start; never use it for real users)
  Demo apps:         ${apps.intranet.url} (intranet), ${apps.payroll.url} (payroll) — reached only through Gatehouse
  Assertion JWKS:    http://127.0.0.1:${port}${JWKS_PATH} — the demo apps verify X-Gatehouse-Assertion
                     against it (intranet ES256, payroll RS256) and show the result

  Press Ctrl+C to stop.
`;
}

/**
 * `gatehouse dev [--port N] [--partners]`: a complete local demo on loopback — the embedded OpenID provider,
 * the demo "legacy intranet" app, and Gatehouse in front of it with single sign-on. Stops
 * cleanly on SIGINT/SIGTERM (or `opts.signal`).
 */
export async function runDev(argv: readonly string[], io: CliIo, opts: DevOptions = {}): Promise<number> {
  const { flags, positionals, error } = parseFlags(argv, {
    port: { alias: 'p', value: true },
    partners: { value: false },
  });
  const port = flags.port === undefined ? 8080 : Number(flags.port);
  if (error || positionals.length > 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    io.stderr.write(
      `gatehouse dev: ${error ?? (positionals.length ? `unexpected argument ${positionals[0]}` : `invalid --port ${String(flags.port)}`)}\nusage: gatehouse dev [--port N] [--partners]\n`,
    );
    return 2;
  }
  const gwPort = port === 0 ? await freeLoopbackPort() : port;
  const adminPort = port === 0 ? await freeLoopbackPort() : DEV_ADMIN_PORT;
  const hosts = devHosts(gwPort);
  const clientSecret = randomBytes(24).toString('base64url');
  const line = (s: string) => io.stdout.write(`${s}\n`);
  const idpLog = {
    warn: (_o: object, m: string) => void line(`[dev-idp] ${m}`),
    info: () => undefined,
    error: (o: object, m: string) => void io.stderr.write(`[dev-idp] ${m} ${JSON.stringify(o)}\n`),
  } as unknown as NonNullable<DevProviderOptions['logger']>;
  let app: DemoApp | undefined;
  let payroll: DemoApp | undefined;
  let idp: DevProvider | undefined;
  let partnerIdp: DevProvider | undefined;
  let gw: Gateway | undefined;
  // Assertion keys for this run only, removed on stop (never in the working directory).
  const keyDir = mkdtempSync(join(tmpdir(), 'gatehouse-dev-keys-'));
  const stopAll = async () => {
    await gw?.close(2000).catch(() => undefined);
    await idp?.close().catch(() => undefined);
    await partnerIdp?.close().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await payroll?.close().catch(() => undefined);
    rmSync(keyDir, { recursive: true, force: true });
  };
  try {
    const links = [
      { label: 'Intranet', url: `${hosts.intranet}/` },
      { label: 'Payroll', url: `${hosts.payroll}/` },
    ];
    const check = (audience: string) => ({
      jwksUrl: `http://127.0.0.1:${gwPort}${JWKS_PATH}`,
      issuer: hosts.login,
      audience,
    });
    app = await startDemoApp({ port: 0, links, assertion: check(hosts.intranet) });
    payroll = await startDemoApp({
      port: 0,
      name: 'Contoso Payroll',
      color: '#1e7b4f',
      links,
      assertion: check(hosts.payroll),
    });
    idp = await startDevProvider({
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: clientSecret,
          token_endpoint_auth_method: 'client_secret_basic',
          // One redirect URI, on the login host, whatever the number of app hosts.
          redirect_uris: [`${hosts.login}/.gatehouse/callback`],
          post_logout_redirect_uris: [`${hosts.login}/.gatehouse/signed-out`],
          backchannel_logout_uri: `http://127.0.0.1:${gwPort}/.gatehouse/backchannel-logout`,
        },
      ],
      logger: idpLog,
    });
    const partnerSecret = randomBytes(24).toString('base64url');
    // --partners: a second demo IdP with other users; the login host then shows a chooser.
    if (flags.partners === true)
      partnerIdp = await startDevProvider({
        users: PARTNER_USERS.map((u) => ({ ...u })),
        clients: [
          {
            client_id: CLIENT_ID,
            client_secret: partnerSecret,
            token_endpoint_auth_method: 'client_secret_basic',
            redirect_uris: [`${hosts.login}/.gatehouse/callback`],
            post_logout_redirect_uris: [`${hosts.login}/.gatehouse/signed-out`],
          },
        ],
        logger: idpLog,
      });
    const config = validateConfig(
      devConfig(
        gwPort,
        idp.issuer,
        { intranet: app.url, payroll: payroll.url },
        clientSecret,
        randomBytes(32).toString('base64url'),
        partnerIdp && { issuer: partnerIdp.issuer, clientSecret: partnerSecret },
        { keyDir },
        adminPort,
      ),
    );
    gw = Gateway.create({
      config,
      baseDir: process.cwd(),
      logDestination: io.stdout as unknown as DestinationStream,
    });
    await gw.start();
  } catch (e) {
    await stopAll();
    const msg = e instanceof ConfigError ? e.message : (e as Error).message;
    const inUse = (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
    io.stderr.write(
      `gatehouse dev: failed to start: ${msg}${inUse ? ` (port ${gwPort} is in use: try --port 0 or another port)` : ''}\n`,
    );
    return 1;
  }
  io.stdout.write(banner(gwPort, idp, { intranet: app, payroll }, partnerIdp, adminPort));
  opts.onReady?.(hosts.intranet);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      line('gatehouse dev: stopping');
      void stopAll().then(() => resolve(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (opts.signal?.aborted) stop();
    opts.signal?.addEventListener('abort', stop, { once: true });
  });
}
