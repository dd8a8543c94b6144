/**
 * The Caddy forward-auth site block used by the integration test and printed in
 * docs/forward-auth.md (keep them identical: the doc snippet is this template with example
 * addresses).
 */
export function caddyForwardAuthSite(o: { site: string; gatehouse: string; upstream: string }): string {
  return `${o.site} {
	handle /.gatehouse/* {
		reverse_proxy ${o.gatehouse}
	}
	handle {
		forward_auth ${o.gatehouse} {
			uri /.gatehouse/auth
			copy_headers X-Forwarded-User X-Forwarded-Email X-Forwarded-Groups
		}
		reverse_proxy ${o.upstream}
	}
}
`;
}
