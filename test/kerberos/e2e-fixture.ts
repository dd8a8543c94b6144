// The whole chain of the Kerberos end-to-end tests: a real OpenID provider (the embedded dev
// provider) signs users in to a real Gatehouse, whose upstream `payroll` is the IIS stand-in
// reached with Kerberos constrained delegation through the throwaway AD domain.
import { startDevProvider, type DevProvider } from '../../src/dev/provider.js';
import type { DevUser } from '../../src/dev/provider-types.js';
import { startAdDomain, IIS_SPN, type AdDomain, type AdDomainOptions } from '../helpers/ad-domain.js';
import { startIisStandin, type IisStandin, type StandinWhoami } from '../helpers/iis-standin.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import { clientFor, ssoConfig, SECRET } from '../oidc/fixture.js';
import { TestBrowser, type Page } from '../oidc/browser-client.js';

export const COOKIE = 'gatehouse_session';
export const JSON_ACCEPT = { accept: 'application/json' };

function devUser(id: string, groups: string[] = ['staff']): DevUser {
  return { id, password: `${id}-dev-password`, name: id, email: `${id}@contoso.example`, groups };
}

/**
 * Users at the OpenID provider: alice, bob, carol, dave and frank are in the mapping table (dave
 * has no AD account; frank has one only after `ad.addUser('frank')`); eve is in no table (unmapped).
 */
export const USERS: readonly DevUser[] = ['alice', 'bob', 'carol', 'dave', 'eve', 'frank'].map((u) =>
  devUser(u),
);

/** `user_table` of the tests: e-mail at the provider → AD account. */
export const USER_TABLE: Readonly<Record<string, string>> = {
  'alice@contoso.example': 'alice',
  'bob@contoso.example': 'bob',
  'carol@contoso.example': 'carol',
  'dave@contoso.example': 'dave',
  'frank@contoso.example': 'frank',
};

export interface KerberosE2e {
  readonly ad: AdDomain;
  readonly iis: IisStandin;
  readonly idp: DevProvider;
  readonly gw: TestGateway;
  readonly url: string;
  /** Signs `user` in through the provider (following every redirect); returns the browser and the final page. */
  login(user: string, path?: string): Promise<{ browser: TestBrowser; page: Page }>;
  /** A GET as the signed-in `browser`, asking for JSON (errors come as `{error: GH_…}`). */
  get(browser: TestBrowser, path: string): Promise<Page>;
  close(): Promise<void>;
}

export interface KerberosE2eOptions {
  domain?: AdDomainOptions;
  /** Merged into `upstreams.payroll.auth.kerberos`. */
  kerberos?: Record<string, unknown>;
}

/** The stand-in's answer as JSON, or a thrown error naming status and body. */
export function whoami(page: Page): StandinWhoami {
  if (page.status !== 200)
    throw new Error(`expected 200 from the stand-in, got ${page.status}: ${page.body}`);
  return JSON.parse(page.body) as StandinWhoami;
}

/** Starts domain, stand-in, provider and Gatehouse (route `/` → upstream payroll, session login). */
export async function startKerberosE2e(opts: KerberosE2eOptions = {}): Promise<KerberosE2e> {
  const ad = await startAdDomain(opts.domain);
  const closers: Array<() => Promise<void>> = [() => ad.close()];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const iis = await startIisStandin({ keytab: ad.iisKeytab, krb5Conf: ad.krb5Conf });
    closers.push(() => iis.close());
    const port = await freePort();
    const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined };
    const idp = await startDevProvider({ clients: [clientFor([port])], users: [...USERS], logger: quiet });
    closers.push(() => idp.close());
    const config = ssoConfig(port, idp.issuer, iis.url);
    config.upstreams = {
      payroll: {
        url: iis.url,
        auth: {
          kerberos: {
            service_principal: ad.gatewayPrincipal,
            keytab: ad.gatewayKeytab,
            spn: IIS_SPN,
            krb5_conf: ad.krb5Conf,
            user_table: { ...USER_TABLE },
            user_table_key: '{email}',
            ...opts.kerberos,
          },
        },
      },
    };
    config.routes = [
      { name: 'payroll', match: { path: '/' }, upstream: 'payroll', auth: 'session', allow: 'authenticated' },
    ];
    const gw = await startGatehouse(config, { env: { TEST_SESSION_SECRET: SECRET } });
    closers.push(() => gw.close());
    const url = gw.url;
    return {
      ad,
      iis,
      idp,
      gw,
      url,
      login: async (user, path = '/payroll/home') => {
        const browser = new TestBrowser();
        const page = await browser.login(`${url}${path}`, user, `${user}-dev-password`);
        return { browser, page };
      },
      get: (browser, path) => browser.send(`${url}${path}`, { headers: JSON_ACCEPT }),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
