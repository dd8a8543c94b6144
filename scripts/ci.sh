#!/usr/bin/env bash
# The one command that runs every check from a fresh clone: system packages for the tests
# (scripts/test-deps.sh: apt-get as root, otherwise it names them and stops), npm packages,
# build, typecheck, lint, then every test. `npm run test:ci` and .ci/run both run this.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash scripts/test-deps.sh
npm ci --no-audit --no-fund
npm run build
npm run typecheck
npm run lint
npm test
echo "ci: every check passed in $((SECONDS - start)) s"
