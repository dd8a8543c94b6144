import type { Feature } from '../pipeline/feature.js';
import type { AuthnGlobals, AuthnRoute } from './schema.js';
import { compileProviders } from './providers.js';
import { queryGuardAuthenticator, queryGuardFor } from './query-guard.js';
import { authenticatorFactories } from './registry.js';

/**
 * The authn feature: compiles `providers` once into the `providers` service (keys load at start),
 * and builds each route's authenticators from its `auth:` list.
 */
export const authnFeature: Feature<AuthnGlobals, AuthnRoute> = {
  id: 'authn',
  compileGlobal(cctx) {
    const registry = compileProviders(cctx.config.providers, cctx);
    cctx.services.set('providers', registry);
    if (!cctx.dryRun && registry.providers.size > 0)
      cctx.onStart(() => registry.start({ tolerate: true, logger: cctx.logger }));
    cctx.onClose(() => registry.close());
  },
  compileRoute(route, keyPath, cctx, stages) {
    const auth = Array.isArray(route.auth) ? route.auth : [route.auth];
    if (auth.includes('none')) {
      if (auth.length === 1 && (route.providers !== undefined || route.token !== undefined)) {
        cctx.issue(
          `${keyPath}.auth`,
          'auth: none is a public route; `providers` and `token` have no effect',
          'warning',
        );
      }
      return;
    }
    const known = [...authenticatorFactories.keys()];
    for (const name of auth) {
      const factory = authenticatorFactories.get(name);
      if (!factory) {
        cctx.issue(
          `${keyPath}.auth`,
          `unknown authenticator "${name}"; expected one of none, ${known.join(', ')}`,
        );
        continue;
      }
      const a = factory(route, keyPath, cctx);
      if (a) stages.authenticators.push(a);
    }
    // RFC 6750 §5.3 on every authenticated route: `bearer` checks the query itself when it runs
    // first; otherwise a guard runs before any authenticator can let the request through.
    if (stages.authenticators.length > 0 && stages.authenticators[0]?.id !== 'bearer') {
      stages.authenticators.unshift(
        queryGuardAuthenticator(queryGuardFor(route, cctx), auth.includes('bearer')),
      );
    }
  },
};
