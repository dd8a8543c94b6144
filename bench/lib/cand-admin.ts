import { connect } from 'node:net';
import { freePort } from '../../test/helpers/ports.js';
import type { Candidate } from './candidate.js';
import { gatePlain, launchGatehouse } from './cand-core.js';
import { benchCert } from './cand-tls.js';

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('error', reject);
  });
}

/**
 * gh-plain with the admin console on (`admin:`, the admin listener on its own port; admins by
 * client certificate so no IdP is needed): every proxied request is also recorded into the
 * decision ring and the analytics steps. Paired with gh-plain in the same rounds: the ratio is
 * what feeding the console costs on the hot path (target: within 5 %).
 */
export const gatehousePlainAdmin: Candidate = {
  id: 'gh-plain-admin',
  label: 'Gatehouse plain proxy + admin console fed (decision ring, analytics)',
  relativeTo: 'gh-plain',
  floors: [],
  async start(ctx) {
    const cert = await benchCert(ctx);
    const adminPort = await freePort();
    const { gh, logFiles } = await launchGatehouse(ctx, 'gh-plain-admin', {
      route: { auth: 'none' },
      top: {
        admin: {
          listen: `127.0.0.1:${adminPort}`,
          tls: { cert: cert.cert, key: cert.key, client_ca: cert.cert },
          access: { mtls_subjects: ['CN=bench-admin'] },
        },
      },
    });
    try {
      await gatePlain('gh-plain-admin', gh.url);
      await listening(adminPort);
    } catch (e) {
      await gh.stop();
      throw e;
    }
    return { pid: gh.pid, load: { url: `${gh.url}/bench` }, logFiles, stop: () => gh.stop() };
  },
};
