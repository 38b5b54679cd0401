#!/usr/bin/env bash
# The README's test command: installs what a fresh machine lacks (system packages, npm
# dependencies), builds, then runs every test against a local Kafka broker and schema registry
# that the test runner starts and stops itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-prerequisites.sh
npm ci --no-audit --no-fund
npm test -- "$@"
