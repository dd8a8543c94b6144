import type { Candidate, RunningCandidate } from './candidate.js';
import { launchGatehouse } from './cand-core.js';
import { benchOp, CLIENT_ID, CLIENT_SECRET, SESSION_SECRET, signIn } from './cand-session.js';
import { SkipCandidate } from './gatehouse.js';
import { expectStatus, httpGet } from './http.js';
import { IIS_SPN, startAdDomain, type AdDomain } from '../../test/helpers/ad-domain.js';
import { startIisStandin, type IisStandin } from '../../test/helpers/iis-standin.js';

const COOKIE = 'gatehouse_session';

/**
 * Issue 17 item 6: a Kerberos-delegated route with warm tickets. alice's browser session (as in
 * gh-session-memory, group rule) → Gatehouse → the IIS stand-in (Apache + mod_auth_gssapi,
 * Negotiate only, authentication bound to the connection) through constrained delegation in a
 * throwaway Samba AD domain. The ticket is obtained once (S4U2Self + S4U2Proxy); each new upstream
 * connection costs one SPNEGO token and its verification by Apache, later requests on a pinned
 * connection carry none. The load requests a 3-byte static file behind the same authentication;
 * the upstream is Apache (event MPM), not the nginx `return 200` of the other rows, pinned to the
 * proxy CPU like that nginx, and its CPU counts as the candidate's (it is not the shared upstream).
 * The gate checks that the stand-in saw alice@CORP.TEST.
 */
export const kerberosWarm: Candidate = {
  id: 'gh-kerberos-warm',
  label:
    'Kerberos-delegated route, warm ticket (session cookie → SPNEGO per new upstream connection, Apache)',
  relativeTo: 'gh-session-memory',
  floors: [],
  async start(ctx): Promise<RunningCandidate> {
    if (process.getuid?.() !== 0) throw new SkipCandidate('needs root (samba-tool domain provision)');
    let ad: AdDomain | undefined;
    let iis: IisStandin | undefined;
    const down = async () => {
      await iis?.close();
      await ad?.close();
    };
    try {
      ad = await startAdDomain();
      iis = await startIisStandin({ keytab: ad.iisKeytab, krb5Conf: ad.krb5Conf, cpu: ctx.opts.proxyCpu });
    } catch (e) {
      await down();
      throw new SkipCandidate(`no throwaway AD domain / IIS stand-in: ${(e as Error).message.slice(0, 300)}`);
    }
    try {
      const op = await benchOp(ctx);
      const echo = await ctx.echo();
      const top = {
        providers: { dev: { issuer: op.issuer, audiences: [CLIENT_ID], login_client_ids: [CLIENT_ID] } },
        policies: { staff: { rules: [{ name: 'staff', effect: 'allow', when: { group: 'staff' } }] } },
        session: {
          secrets: [SESSION_SECRET],
          insecure_http_cookies: true,
          login: {
            provider: 'dev',
            client_id: CLIENT_ID,
            client_secret: CLIENT_SECRET,
            scopes: ['openid', 'profile', 'email', 'groups'],
            insecure_allow_http: true,
          },
        },
        upstreams: {
          app: {
            url: iis.url,
            auth: {
              kerberos: {
                service_principal: ad.gatewayPrincipal,
                keytab: ad.gatewayKeytab,
                spn: IIS_SPN,
                krb5_conf: ad.krb5Conf,
                user_table: { 'alice@contoso.example': 'alice' },
                connections_per_user: 64,
              },
            },
          },
          gate: { url: echo.url },
        },
      };
      const { gh, logFiles } = await launchGatehouse(ctx, 'gh-kerberos-warm', {
        route: { auth: 'session', policy: 'staff' },
        top,
        server: { external_url: 'http://127.0.0.1:9' },
        audit: true,
      });
      try {
        const cookie = `${COOKIE}=${await signIn(gh.url, 'alice')}`;
        const id = 'gh-kerberos-warm';
        expectStatus(`${id}: GET /bench without a session`, await httpGet(`${gh.url}/bench`, {}), 401);
        const ok = await httpGet(`${gh.url}/bench`, { cookie });
        expectStatus(`${id}: GET /bench as alice`, ok, 200);
        const user = (JSON.parse(ok.body) as { user?: string }).user;
        if (user !== 'alice@CORP.TEST')
          throw new Error(`${id}: the stand-in saw ${user}, not alice@CORP.TEST`);
        return {
          pid: gh.pid,
          extraPids: [iis.pid],
          load: { url: `${gh.url}/static.txt`, cookie },
          logFiles,
          stop: async () => {
            await gh.stop();
            await down();
          },
        };
      } catch (e) {
        await gh.stop();
        throw e;
      }
    } catch (e) {
      await down();
      throw e;
    }
  },
};
