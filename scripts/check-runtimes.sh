#!/usr/bin/env bash
# Checks that the built CLI runs on each supported Node.js line without runtime warnings
# (deprecations, experimental features): `--version`, `validate examples/gatehouse.yaml`,
# `dev --help`, and the `dev` demo (started on a free port, its login redirect fetched, stopped).
# Node binaries come from the npm registry's `node` package (npm exec --package=node@N), so
# nothing but npm is needed. Not part of CI (it downloads two Node.js builds); run it when a
# supported line changes:   bash scripts/check-runtimes.sh [--tests] [22 24 ...]
# --tests also runs the CLI, dev-demo (a full sign-in through the embedded provider) and docs
# tests with that binary.
set -euo pipefail
cd "$(dirname "$0")/.."
tests=0
if [ "${1:-}" = "--tests" ]; then
  tests=1
  shift
fi
lines=("$@")
[ ${#lines[@]} -gt 0 ] || lines=(20 22 24)

[ -f dist/cli/main.js ] || npm run build >/dev/null
export GATEHOUSE_SESSION_SECRET=check-runtimes-session-secret-0123456789abcdef
export GATEHOUSE_CLIENT_SECRET=check-runtimes-client-secret
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

for v in "${lines[@]}"; do
  # The real binary behind the registry package's shim, so signals reach the process itself.
  nodebin=$(npm exec --yes --package="node@$v" -- node -p process.execPath 2>/dev/null)
  node_of() { "$nodebin" "$@"; }
  version=$(node_of --version)
  out="$tmp/$v.log"
  : >"$out"
  ok=1
  {
    node_of bin/gatehouse.js --version
    node_of bin/gatehouse.js validate examples/gatehouse.yaml
    node_of bin/gatehouse.js dev --help
  } >>"$out" 2>&1 || ok=0
  # The demo: start, wait for the banner, fetch the login redirect, stop with SIGINT.
  "$nodebin" bin/gatehouse.js dev --port 0 >"$tmp/dev.out" 2>"$tmp/dev.err" &
  pid=$!
  url=""
  for _ in $(seq 1 100); do
    url=$(grep -o 'Open http://127.0.0.1:[0-9]*' "$tmp/dev.out" 2>/dev/null | head -1 | cut -c6-) || true
    [ -n "$url" ] && break
    sleep 0.2
  done
  if [ -n "$url" ]; then
    # A browser navigation (fetch() would send Sec-Fetch-Mode: cors): expect the login redirect
    # (through the login host, login.localhost, which browsers resolve to loopback like every
    # *.localhost name), then follow it to the IdP's authorization endpoint (303/302 to its login
    # page, or 200).
    status=$(node -e "
      const lookup = (h, o, cb) => h.endsWith('.localhost') ? (o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) : require('dns').lookup(h, o, cb);
      const get = (u, h) => new Promise((ok) => require('http').get(u, { headers: h, lookup }, (r) => { r.resume(); ok(r); }));
      get('$url/', { accept: 'text/html' }).then(async (r) => {
        let loc = r.headers.location, next = '-';
        for (let i = 0; loc && i < 3; i++) {
          const n = await get(loc, { accept: 'text/html' });
          next = n.statusCode;
          if (new URL(loc).hostname === '127.0.0.1') break;
          loc = n.headers.location && new URL(n.headers.location, loc).href;
        }
        console.log(r.statusCode + ' ' + next);
      });")
    case "$status" in
      "302 200" | "302 302" | "302 303") ;;
      *) echo "dev: GET / then the IdP answered '$status', expected a 302 then 200/302/303" >>"$out"; ok=0 ;;
    esac
    idp=$(grep -o 'Identity provider: http://127.0.0.1:[0-9]*' "$tmp/dev.out" | cut -c20-)
    disc=$(node -e "fetch('$idp/.well-known/openid-configuration').then(r=>console.log(r.status))")
    [ "$disc" = "200" ] || { echo "dev: discovery answered $disc" >>"$out"; ok=0; }
  else
    echo "dev: no banner within 20 s" >>"$out"
    ok=0
  fi
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  cat "$tmp/dev.out" "$tmp/dev.err" >>"$out"
  if grep -Eq 'Warning|DEP0[0-9]+' "$out"; then
    echo "node $version: runtime warnings:" >&2
    grep -E 'Warning|DEP0[0-9]+' "$out" >&2
    ok=0
  fi
  if [ $tests -eq 1 ] && [ $ok -eq 1 ]; then
    "$nodebin" scripts/test.mjs test/cli/ test/dev/ test/integration/login-dev test/docs/ >"$tmp/tests.log" 2>&1 || {
      echo "tests failed on $version:" >>"$out"
      tail -40 "$tmp/tests.log" >>"$out"
      ok=0
    }
    grep -E '^(ℹ|#) (pass|fail)' "$tmp/tests.log" | tr '\n' ' ' >>"$tmp/summary" || true
  fi
  if [ $ok -eq 1 ]; then
    echo "node $version ($nodebin): ok (--version, validate, dev --help, dev demo: login redirect, IdP authorization request and discovery; no warnings)"
  else
    echo "node $version: FAILED" >&2
    cat "$out" >&2
    failed=1
  fi
done
exit $failed
