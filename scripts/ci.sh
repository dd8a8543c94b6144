#!/usr/bin/env bash
# The one command that runs every check from a fresh clone: system packages for the tests
# (scripts/test-deps.sh: apt-get as root, otherwise it names them and stops), npm packages,
# build, typecheck, lint, then every test. `npm run test:ci` and .ci/run both run this.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash scripts/test-deps.sh
# The optional native `kerberos` package has no prebuilt binary here (prebuild-install fails
# fast offline), so node-gyp builds it: point it at the headers installed with node itself
# (Debian's /usr/include/node, or a tarball's include/node) instead of downloading them.
node_prefix=$(node -p 'require("path").resolve(process.execPath, "../..")')
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node_api.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi
npm ci --no-audit --no-fund
node -e 'require("kerberos")' || {
  echo "ci: the optional kerberos package was not built (needs libkrb5-dev, build-essential, node headers)" >&2
  exit 1
}
npm run build
npm run typecheck
npm run lint
npm test
echo "ci: every check passed in $((SECONDS - start)) s"
