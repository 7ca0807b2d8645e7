#!/usr/bin/env bash
# Installs everything ckpt needs to build, test, fuzz and benchmark, from Debian's packages.
# Idempotent and non-interactive: safe to run on every CI start.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git clang-format
  clang libclang-rt-14-dev              # fuzz preset (libFuzzer) and sanitizer runtimes
  libcli11-dev libfmt-dev libzstd-dev doctest-dev libxxhash-dev
  librocksdb-dev rocksdb-tools          # RocksDB library, plus ldb/sst_dump for tests and benchmarks
  libprotobuf-dev protobuf-compiler
  zstd python3                           # python3: the layering check and JSON assertions in the CLI tests
  openjdk-17-jre-headless               # runs ../shared/tools/flink-oracle (Flink's own _metadata code) in tests
  libcurl4-openssl-dev libxml2-dev libssl-dev       # the S3 client (libcurl with SigV4; XML of S3's answers)
  libyaml-cpp-dev                        # Flink's config.yaml (nested and flat keys)
  libsnappy-dev                          # Flink's snapshot compression (Snappy framing)
  awscli                                 # S3 tests upload with it; benchmarks compare against `aws s3`
  jq                                     # the README tour pipes JSON through it (tests/cli/test_readme_tour.sh)
)
# Node.js runs s3rver, the local S3 server of the S3 tests (tests/s3): Debian's nodejs, unless a
# `node` (e.g. NodeSource's) already works.
command -v node >/dev/null 2>&1 && node --version >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present" >&2
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  echo "install-deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# s3rver, pinned, from the npm registry into .deps/node of the source tree (ignored by git);
# tests/s3/s3_server.sh runs it from there.
S3RVER_VERSION=3.7.1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=$root/.deps/node
have=$(node -p "require('$prefix/node_modules/s3rver/package.json').version" 2>/dev/null || true)
if [ "$have" = "$S3RVER_VERSION" ]; then
  echo "install-deps: s3rver $S3RVER_VERSION present" >&2
else
  echo "install-deps: installing s3rver@$S3RVER_VERSION into $prefix" >&2
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "s3rver@$S3RVER_VERSION" >/dev/null
fi
