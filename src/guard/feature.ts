import type { Feature } from '../pipeline/feature.js';
import type { GuardGlobals, GuardRoute } from './schema.js';
import { classifyHeader, HeaderClass, normalizeHeaderName, REWRITTEN_FORWARDING } from '../identity/strip.js';

const NONE: ReadonlySet<string> = new Set();

/**
 * The edge guard: per route, which upgrades are proxied (`websocket`) and which normally
 * stripped headers a trusted proxy may pass (`trusted_headers`). Runs after every other feature
 * so the route's injected names are known; names the route injects can never be let through.
 */
export const guardFeature: Feature<GuardGlobals, GuardRoute> = {
  id: 'guard',
  compileRoute(route, keyPath, cctx, stages) {
    stages.websocket = route.websocket;
    const injected = new Set([...stages.stripNames].map(normalizeHeaderName));
    const noProxies = cctx.config.server.trusted_proxies.length === 0;
    route.trusted_headers.forEach((name, i) => {
      const path = `${keyPath}.trusted_headers[${i}]`;
      const norm = normalizeHeaderName(name);
      if (REWRITTEN_FORWARDING.has(norm)) {
        cctx.issue(
          path,
          `"${name}" is rebuilt by Gatehouse: a trusted proxy's value is already kept (server.trusted_proxies)`,
        );
        return;
      }
      if (injected.has(norm)) {
        cctx.issue(path, `"${name}" is set by Gatehouse on this route and can never come from a client`);
        return;
      }
      const cls = classifyHeader(norm, NONE);
      if (cls === HeaderClass.None) {
        cctx.issue(
          path,
          `"${name}" is not a header Gatehouse strips (it is forwarded already); expected a path/method override, forwarding, client-certificate or identity header (docs/security.md)`,
        );
        return;
      }
      if (cls === HeaderClass.Identity)
        cctx.issue(
          path,
          `"${name}" is an identity header: the upstream will believe the user a trusted proxy names in it`,
          'warning',
        );
      stages.trustedHeaders.add(norm);
    });
    if (route.trusted_headers.length > 0 && noProxies)
      cctx.issue(
        `${keyPath}.trusted_headers`,
        'has no effect: server.trusted_proxies is empty, so no peer is trusted',
        'warning',
      );
  },
};
