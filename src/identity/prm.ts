import { GatehouseError } from '../errors/index.js';
import type { RequestContext } from '../pipeline/context.js';
import type { RouteBasics } from '../pipeline/route.js';
import type { InternalEndpoint } from '../pipeline/stages.js';

/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) for bearer routes, so that AI agents and
 * MCP clients discover which authorization server issues tokens for a resource.
 */

/** The well-known path (RFC 9728 §3). A resource's path is appended to it (§3.1). */
export const PRM_PATH = '/.well-known/oauth-protected-resource';

/** One protected resource: a bearer route, compiled at load. */
export interface ProtectedResource {
  /** Route path without trailing slash; '' for `/`. */
  readonly path: string;
  /** Lower-case hosts the route matches (`*.example.com` allowed), or undefined for any. */
  readonly hosts: readonly string[] | undefined;
  readonly authorizationServers: readonly string[];
  readonly scopes: readonly string[];
  readonly resourceName: string | undefined;
}

interface RouteMeta {
  /** `/.well-known/oauth-protected-resource/<path>` */
  readonly wellKnownPath: string;
  /** Absolute metadata URL when `server.external_url` is set. */
  readonly absolute: string | undefined;
}

const routeMeta = new WeakMap<RouteBasics, RouteMeta>();

/** Normalises a route path for RFC 9728: no trailing slash, '' for the root. */
export function resourcePath(matchPath: string): string {
  const p = matchPath.replace(/\/+$/, '');
  return p;
}

/** Records a bearer route so {@link protectedResourceMetadataUrl} can answer for it. */
export function registerResourceRoute(route: RouteBasics, externalOrigin: string | undefined): void {
  const wellKnownPath = PRM_PATH + resourcePath(route.match.path);
  routeMeta.set(route, {
    wellKnownPath,
    absolute: externalOrigin === undefined ? undefined : externalOrigin + wellKnownPath,
  });
}

/**
 * The RFC 9728 metadata URL of the request's route, for `resource_metadata="…"` in the
 * `WWW-Authenticate` header of its 401 responses (RFC 9728 §5.1); undefined for routes that are
 * not bearer routes.
 */
export function protectedResourceMetadataUrl(ctx: RequestContext): string | undefined {
  const route = ctx.route?.config;
  const m = route === undefined ? undefined : routeMeta.get(route);
  if (!m) return undefined;
  return m.absolute ?? `${ctx.scheme}://${ctx.hostHeader}${m.wellKnownPath}`;
}

/** `resource_metadata="<url>"` to append to a Bearer challenge, or '' (RFC 9728 §5.1). */
export function resourceMetadataParam(ctx: RequestContext): string {
  const url = protectedResourceMetadataUrl(ctx);
  return url === undefined ? '' : `resource_metadata="${url}"`;
}

function hostMatches(hosts: readonly string[] | undefined, host: string): boolean {
  if (hosts === undefined) return true;
  for (const h of hosts) {
    if (h === host) return true;
    if (h.startsWith('*.') && host.endsWith(h.slice(1)) && host.length > h.length - 1) return true;
  }
  return false;
}

const union = (lists: (readonly string[])[]): string[] => [...new Set(lists.flat())];

/**
 * The `/.well-known/oauth-protected-resource[/<path>]` endpoint. The `resource` identifier is
 * the external origin (or the request's scheme and Host) plus the route path, and equals the URL
 * the document was fetched from minus the well-known segment, as §3.3 requires clients to check.
 */
export function protectedResourceEndpoint(
  resources: readonly ProtectedResource[],
  externalOrigin: string | undefined,
): InternalEndpoint {
  return {
    path: PRM_PATH,
    prefix: true,
    handle(ctx) {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
        throw new GatehouseError('GH_METHOD_NOT_ALLOWED', 'metadata is read-only', {
          headers: { allow: 'GET, HEAD' },
        });
      }
      const suffix = ctx.path.slice(PRM_PATH.length).replace(/\/+$/, '');
      const candidates = resources.filter((r) => hostMatches(r.hosts, ctx.host));
      let match = candidates.filter((r) => r.path === suffix);
      if (match.length === 0 && suffix === '') match = candidates;
      if (match.length === 0)
        throw new GatehouseError('GH_ROUTE_NOT_FOUND', `no bearer route at ${suffix || '/'}`);
      const origin = externalOrigin ?? `${ctx.scheme}://${ctx.hostHeader}`;
      const doc: Record<string, unknown> = {
        resource: origin + suffix,
        authorization_servers: union(match.map((r) => r.authorizationServers)),
        bearer_methods_supported: ['header'],
      };
      const scopes = union(match.map((r) => r.scopes));
      if (scopes.length > 0) doc.scopes_supported = scopes;
      const name = match.length === 1 ? match[0]?.resourceName : undefined;
      if (name !== undefined) doc.resource_name = name;
      const body = JSON.stringify(doc);
      ctx.res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'public, max-age=300',
      });
      ctx.res.end(ctx.method === 'HEAD' ? undefined : body);
    },
  };
}
