/**
 * The embedded OpenID provider of `gatehouse dev` and of the test suite, built on
 * `oidc-provider` 9 (a certified OpenID Provider: the protocol is real, not mocked).
 *
 * DEVELOPMENT AND TESTS ONLY. Users and passwords are in memory, keys are generated at every
 * start, all state is lost on restart and the login page lists the demo accounts. Never put
 * it in front of real users.
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Provider, type InteractionDetails } from 'oidc-provider';
import { DevAdapterStore } from './provider-adapter.js';
import { providerConfiguration } from './provider-config.js';
import { PAGE_HEADERS, errorPage, loginPage } from './provider-pages.js';
import {
  DEV_ACR_MFA,
  DEV_ACR_PWD,
  type DevProvider,
  type DevProviderOptions,
  type DevUser,
} from './provider-types.js';

export type { DevUser, DevProviderClient, DevProviderOptions, DevProvider } from './provider-types.js';

/** The demo users of `gatehouse dev`; their passwords are printed at start and shown on the login page. */
export const DEMO_USERS: readonly DevUser[] = Object.freeze([
  {
    id: 'alice',
    password: 'alice-dev-password',
    otp: '123456',
    name: 'Alice Anders',
    email: 'alice@contoso.example',
    groups: ['staff', 'admins'],
    roles: ['admin'],
  },
  {
    id: 'bob',
    password: 'bob-dev-password',
    name: 'Bob Brown',
    email: 'bob@contoso.example',
    groups: ['staff'],
    roles: ['reader'],
  },
  {
    id: 'carol',
    password: 'carol-dev-password',
    name: 'Carol Clark',
    email: 'carol@contoso.example',
    groups: ['contractors'],
    roles: [],
  },
]);

/** The users of the second demo provider ("partners") of `gatehouse dev` and the tests. */
export const PARTNER_USERS: readonly DevUser[] = Object.freeze([
  {
    id: 'pat',
    password: 'pat-dev-password',
    name: 'Pat Partner',
    email: 'pat@fabrikam.example',
    groups: ['partners'],
    roles: [],
  },
  {
    id: 'quinn',
    password: 'quinn-dev-password',
    name: 'Quinn Quill',
    email: 'quinn@fabrikam.example',
    groups: ['partners', 'partner-admins'],
    roles: [],
  },
]);

const LOGIN_BODY_LIMIT = 16 * 1024;

/**
 * Starts the embedded OpenID provider on loopback. DEVELOPMENT AND TESTS ONLY.
 *
 * Authorization code flow with PKCE (required), scopes `openid profile email groups
 * offline_access`, claims `sub name email email_verified groups roles` in the ID token and at
 * userinfo, RP-initiated logout, back-channel logout, revocation, introspection, rotating
 * refresh tokens, RS256 and ES256 signing keys generated at start.
 */
export async function startDevProvider(opts: DevProviderOptions): Promise<DevProvider> {
  const log = opts.logger ?? consoleLogger;
  const users = opts.users ?? DEMO_USERS.map((u) => ({ ...u }));
  const byId = new Map(users.map((u) => [u.id, u]));
  const host = opts.host ?? '127.0.0.1';
  const clientIds = new Set(opts.clients.map((c) => c.client_id));

  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const issuerHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const issuer = `http://${issuerHost}:${port}`;

  const store = new DevAdapterStore();
  let provider: Provider;
  try {
    provider = new Provider(issuer, await providerConfiguration(opts, store, byId));
  } catch (e) {
    server.close();
    throw e;
  }
  provider.on('server_error', (_ctx: unknown, err: Error) =>
    log.error({ err: err.message }, 'dev identity provider: server error'),
  );
  provider.on('backchannel.error', (_ctx: unknown, err: Error) =>
    log.warn({ err: err.message }, 'dev identity provider: back-channel logout failed'),
  );
  const oidc = provider.callback();

  handler = (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const m = /^\/interaction\/([\w-]+)(\/login)?$/.exec(path);
    if (m === null) {
      void oidc(req, res);
      return;
    }
    const uid = m[1] as string;
    const action = m[2] === undefined ? interactionStart(req, res, uid) : loginSubmit(req, res, uid);
    action.catch((err: Error & { name?: string }) => {
      if (!res.headersSent) {
        const expired = err.name === 'SessionNotFound';
        res.writeHead(expired ? 400 : 500, PAGE_HEADERS);
        res.end(
          errorPage(
            'Sign-in failed',
            expired
              ? 'This sign-in attempt has expired or is unknown. Go back to the application and try again.'
              : 'Internal error.',
          ),
        );
      } else res.destroy();
      if (err.name !== 'SessionNotFound')
        log.error({ err: err.message }, 'dev identity provider: interaction failed');
    });
  };

  const details = async (
    req: IncomingMessage,
    res: ServerResponse,
    uid: string,
  ): Promise<InteractionDetails> => {
    const d = await provider.interactionDetails(req, res);
    if (d.uid !== uid) throw Object.assign(new Error('interaction mismatch'), { name: 'SessionNotFound' });
    return d;
  };

  const renderLogin = (
    res: ServerResponse,
    d: InteractionDetails,
    status: number,
    login?: string,
    error?: string,
  ) => {
    res.writeHead(status, PAGE_HEADERS);
    const page = loginPage({
      action: `/interaction/${d.uid}/login`,
      clientId: String(d.params.client_id ?? ''),
      hints: users,
      ...(login === undefined ? {} : { login }),
      ...(error === undefined ? {} : { error }),
    });
    res.end(page);
  };

  async function interactionStart(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    if (req.method !== 'GET') return void res.writeHead(405, { allow: 'GET' }).end();
    const d = await details(req, res, uid);
    if (d.prompt.name === 'login') return renderLogin(res, d, 200);
    if (d.prompt.name === 'consent') return autoConsent(req, res, d);
    res
      .writeHead(400, PAGE_HEADERS)
      .end(errorPage('Sign-in failed', `Unsupported prompt "${d.prompt.name}".`));
  }

  async function loginSubmit(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
    const form = new URLSearchParams(await readBody(req));
    const d = await details(req, res, uid);
    if (d.prompt.name !== 'login') return autoConsent(req, res, d);
    const login = form.get('login') ?? '';
    const user = byId.get(login);
    if (user === undefined || !sameSecret(form.get('password') ?? '', user.password)) {
      return renderLogin(res, d, 401, login, 'Unknown username or wrong password.');
    }
    // Demo MFA: the user's one-time code makes this an MFA login (acr/amr in the ID token).
    const otp = form.get('otp') ?? '';
    const mfa = user.otp !== undefined && otp !== '' && sameSecret(otp, user.otp);
    await provider.interactionFinished(
      req,
      res,
      {
        login: {
          accountId: user.id,
          acr: mfa ? DEV_ACR_MFA : DEV_ACR_PWD,
          amr: mfa ? ['pwd', 'otp', 'mfa'] : ['pwd'],
        },
      },
      { mergeWithLastSubmission: false },
    );
  }

  /** Consent is implied for the configured demo clients: the grant is created in code. */
  async function autoConsent(
    req: IncomingMessage,
    res: ServerResponse,
    d: InteractionDetails,
  ): Promise<void> {
    const clientId = String(d.params.client_id ?? '');
    const accountId = d.session?.accountId;
    if (!clientIds.has(clientId) || accountId === undefined) {
      res.writeHead(400, PAGE_HEADERS).end(errorPage('Sign-in failed', 'Unknown client.'));
      return;
    }
    const grant =
      (d.grantId ? await provider.Grant.find(d.grantId) : undefined) ??
      new provider.Grant({ accountId, clientId });
    const det = d.prompt.details;
    if (det.missingOIDCScope?.length) grant.addOIDCScope(det.missingOIDCScope.join(' '));
    if (det.missingOIDCClaims?.length) grant.addOIDCClaims(det.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(det.missingResourceScopes ?? {}))
      grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  log.warn(
    { issuer },
    'dev identity provider started: for DEVELOPMENT AND TESTS ONLY (demo users, in-memory state, keys generated at start); never use it in production',
  );

  return {
    issuer,
    port,
    users,
    async backchannelLogout(sub: string, sid?: string): Promise<void> {
      const targets = opts.clients.filter((c) => c.backchannel_logout_uri !== undefined);
      await Promise.all(
        targets.map(async (c) => {
          const client = await provider.Client.find(c.client_id);
          if (client === undefined) throw new Error(`client ${c.client_id} not found`);
          await client.backchannelLogout(sub, sid);
        }),
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Pino-style `(fields, message)` calls printed as one readable console line. */
const consoleLogger = {
  warn: (o: object, m: string) => console.warn(`[dev-idp] ${m} ${JSON.stringify(o)}`),
  info: (o: object, m: string) => console.info(`[dev-idp] ${m} ${JSON.stringify(o)}`),
  error: (o: object, m: string) => console.error(`[dev-idp] ${m} ${JSON.stringify(o)}`),
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > LOGIN_BODY_LIMIT) throw new Error('login form too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
