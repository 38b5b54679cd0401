#!/usr/bin/env bash
# The README's demo command: installs what a fresh machine lacks, builds, then runs
# `peregrine demo` with any arguments given (for example --capture FILE --rules FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-prerequisites.sh
npm ci --no-audit --no-fund
node bin/peregrine.js demo "$@"
