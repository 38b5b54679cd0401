#!/usr/bin/env bash
# Installs the system packages Peregrine needs on Debian or Ubuntu, skipping what is present. They
# are Java 17+ and Maven (the local Kafka broker and schema registry), sysdig (the reader of .scap
# capture files), and the compiler and libraries of the eBPF probe. Node.js 20+ must already exist.
# Runs apt-get directly as root, through sudo otherwise. Safe to run again.
set -euo pipefail

need=()

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "Node.js 20 or later is required (found: $(node --version 2>/dev/null || echo none)); install it first, e.g. from https://nodejs.org" >&2
  exit 1
fi

java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
if [ -z "$java_major" ] || [ "$java_major" -lt 17 ]; then need+=(openjdk-17-jre-headless); fi
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v sysdig >/dev/null 2>&1 || need+=(sysdig)

# Build dependencies of the native eBPF probe; without them `npm ci` still succeeds and the live
# source reports that it is unavailable.
for package in clang-14 libbpf-dev libelf-dev zlib1g-dev bpftool make g++ pkg-config; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || need+=("$package")
done

if [ "${#need[@]}" -eq 0 ]; then
  echo "prerequisites: all present"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing packages: ${need[*]}; install them with your system's package manager" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "missing packages: ${need[*]}; run as root: apt-get install --no-install-recommends ${need[*]}" >&2
  exit 1
fi

echo "prerequisites: installing ${need[*]}"
# --no-install-recommends keeps sysdig from pulling its kernel module (falcosecurity-scap-dkms),
# which Peregrine does not use: it only reads capture files.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
