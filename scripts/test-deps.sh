#!/usr/bin/env bash
# Installs the system programs the tests start for real (Debian packages): redis-server, nginx,
# caddy, headless chromium, openssl, wrk, rsyslog and its TLS driver rsyslog-gnutls, and Mono
# (mono-devel: mcs and mono, for the ASP.NET module tests in test/aspnet). As root it
# runs apt-get; otherwise it names the missing packages and the command to install them, and
# exits 1 without changing anything.
# Usage: bash scripts/test-deps.sh [--check]   (--check: report only, never install)
set -euo pipefail

# command  Debian package
deps=(
  "redis-server redis-server"
  "nginx nginx-light"
  "caddy caddy"
  "chromium chromium"
  "openssl openssl"
  "wrk wrk"
  "rsyslogd rsyslog"
  "/usr/lib/*/rsyslog/lmnsd_gtls.so rsyslog-gnutls"
  "mcs mono-devel"
)

have() {
  case "$1" in
    */*) compgen -G "$1" >/dev/null ;;   # a file a package installs (a driver, no command)
    *) command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/local/sbin/$1" ] ;;
  esac
}

missing=()
for d in "${deps[@]}"; do
  read -r cmd pkg <<<"$d"
  have "$cmd" || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "test-deps: all present (redis-server nginx caddy chromium openssl wrk rsyslog rsyslog-gnutls mono-devel)"
  exit 0
fi

if [ "${1:-}" = "--check" ] || [ "$(id -u)" -ne 0 ]; then
  echo "test-deps: missing Debian packages: ${missing[*]}" >&2
  echo "test-deps: install them as root with:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "test-deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for d in "${deps[@]}"; do
  read -r cmd pkg <<<"$d"
  have "$cmd" || { echo "test-deps: $pkg installed but $cmd is still not on PATH" >&2; exit 1; }
done
echo "test-deps: installed ${missing[*]}"
