import { before, after } from 'node:test';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { doctorJson, workdir } from './helpers.js';

/** What the `doctor --token` tests share: a real IdP/JWKS server and a config that uses it. */
export interface TokenDoctorFixture {
  /** The IdP; available once the `before` hook ran. */
  readonly idp: IdpServer;
  /** Path of the shared config (providers `main` and `other`, route `admin` for group `admins`). */
  readonly cfg: string;
  readonly wd: ReturnType<typeof workdir>;
  /** `gatehouse doctor -c FILE --only token --token TOKEN --json`. */
  check(token: string, file?: string): ReturnType<typeof doctorJson>;
}

/**
 * Registers the file's `before`/`after` hooks: starts the IdP and writes the config with
 * provider `main` (the IdP, RS256, 24 h lifetime limit), provider `other` (another issuer on the
 * same JWKS) and route `admin` (bearer from `main`, rule `admins`: group admins). `setup` runs
 * in the same hook once the IdP is up (e.g. to add a key).
 */
export function tokenDoctorFixture(setup?: (idp: IdpServer) => Promise<void>): TokenDoctorFixture {
  const wd = workdir();
  let idp: IdpServer | undefined;
  let cfg = '';
  before(async () => {
    idp = await startIdp();
    await setup?.(idp);
    cfg = wd.write('gatehouse.yaml', {
      providers: {
        main: {
          issuer: idp.issuer,
          audiences: [idp.audience],
          algorithms: ['RS256'],
          max_token_lifetime: '24h',
        },
        other: { issuer: 'https://idp.other.example', audiences: ['x'], jwks_uri: `${idp.origin}/jwks` },
      },
      upstreams: { app: { url: 'http://127.0.0.1:9' } },
      routes: [
        {
          name: 'admin',
          match: { path: '/admin' },
          upstream: 'app',
          auth: 'bearer',
          providers: ['main'],
          rules: [{ name: 'admins', effect: 'allow', when: { group: 'admins' } }],
        },
      ],
    });
  });
  after(async () => {
    await idp?.close();
    wd.cleanup();
  });
  return {
    get idp(): IdpServer {
      if (idp === undefined) throw new Error('the IdP starts in the before hook');
      return idp;
    },
    get cfg(): string {
      return cfg;
    },
    wd,
    check: (token, file = cfg) => doctorJson(['-c', file, '--only', 'token', '--token', token]),
  };
}
