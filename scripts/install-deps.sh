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
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
