#!/usr/bin/env bash
# npm test: install what is missing, build, run the tiers (all, or those named).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node scripts/build.mjs
exec node scripts/test.mjs "$@"
