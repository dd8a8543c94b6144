#!/usr/bin/env bash
# Installs the system programs the tests start for real (Debian packages): redis-server, nginx,
# caddy, headless chromium, openssl, wrk, rsyslog and its TLS driver rsyslog-gnutls, and Mono
# (mono-devel: mcs and mono, for the ASP.NET module tests in test/aspnet), and for the Kerberos
# tests (test/kerberos) a throwaway Samba AD domain, MIT krb5 tools, Apache with mod_auth_gssapi
# as the IIS stand-in, and libkrb5-dev + build-essential so `npm ci` builds the optional
# `kerberos` package from source (run this before npm ci). As root it
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
  "samba samba"
  "/usr/lib/*/samba/ldb/samba_secrets.so samba-dsdb-modules"
  "/usr/share/samba/setup/ad-schema samba-ad-provision"
  "samba-tool samba-common-bin"
  "kvno krb5-user"
  "winbindd winbind"
  "smbclient smbclient"
  "apache2 apache2"
  "/usr/lib/apache2/modules/mod_auth_gssapi.so libapache2-mod-auth-gssapi"
  "krb5-config libkrb5-dev"
  "g++ build-essential"
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
  echo "test-deps: all present (${deps[*]##* })"
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
