/**
 * The nginx forward-auth `server {}` block used by the integration test and printed in
 * docs/forward-auth.md (keep them identical: the doc snippet is this template with example
 * addresses). `bind` is the source address nginx uses towards Gatehouse (a trusted proxy).
 */
export function nginxForwardAuthServer(o: {
  listen: number;
  gatehouse: string;
  upstream: string;
  bind?: string;
}): string {
  const bind = o.bind ? `proxy_bind ${o.bind};` : '';
  return `
server {
  listen 127.0.0.1:${o.listen};

  location / {
    auth_request /_gatehouse_auth;
    auth_request_set $gh_user $upstream_http_x_forwarded_user;
    auth_request_set $gh_email $upstream_http_x_forwarded_email;
    auth_request_set $gh_groups $upstream_http_x_forwarded_groups;
    auth_request_set $gh_location $upstream_http_location;
    auth_request_set $gh_cookie $upstream_http_set_cookie;
    error_page 401 = @gatehouse_401;

    proxy_set_header X-Forwarded-User $gh_user;
    proxy_set_header X-Forwarded-Email $gh_email;
    proxy_set_header X-Forwarded-Groups $gh_groups;
    proxy_pass ${o.upstream};
  }

  location = /_gatehouse_auth {
    internal;
    ${bind}
    proxy_pass ${o.gatehouse}/.gatehouse/auth/nginx;
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
    proxy_set_header X-Forwarded-Uri $request_uri;
    proxy_set_header X-Forwarded-Method $request_method;
    proxy_set_header X-Forwarded-Host $host;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Original-URI "";
    proxy_set_header X-Original-Method "";
  }

  location /.gatehouse/ {
    ${bind}
    proxy_pass ${o.gatehouse};
    proxy_set_header X-Forwarded-Host $host;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Forwarded-For $remote_addr;
  }

  location @gatehouse_401 {
    add_header Set-Cookie $gh_cookie always;
    if ($gh_location) {
      return 302 $gh_location;
    }
    return 401;
  }
}
`;
}
