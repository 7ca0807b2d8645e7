#!/usr/bin/env bash
# Installs the dependencies, builds ckpt, and runs the main job. Until the bundled pipeline lands,
# the job inspects and validates real Flink snapshots from the fixtures.
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
echo "== ckpt validate --deep: the same checkpoint, SST block checksums included" >&2
"$ckpt" validate --deep "$fixtures/new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint"
echo >&2
echo "== ckpt inspect: every snapshot under the fixture root, newest first (first 25 lines)" >&2
# Exit status 2 is expected here: the fixtures hold one Flink 1.1 savepoint, which ckpt refuses.
"$ckpt" inspect "$fixtures" 2>/dev/null | head -n 25 || true
