#!/usr/bin/env bash
# Installs the dependencies, builds ckpt, and runs the main job: inspect real Flink snapshots.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc 2>/dev/null || echo 2)" --target ckpt
ckpt=build/release/ckpt

fixtures=${CKPT_FIXTURES:-../shared/fixtures/flink}
if [ ! -d "$fixtures" ]; then
  echo "demo: no Flink fixtures at $fixtures (set CKPT_FIXTURES)" >&2
  exit 2
fi
echo "== ckpt inspect: one real Flink 1.20 RocksDB checkpoint, with its files" >&2
"$ckpt" inspect --files "$fixtures/new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint"
echo >&2
echo "== ckpt inspect: every snapshot under the fixture root, newest first (first 25 lines)" >&2
"$ckpt" inspect "$fixtures" | head -n 25
