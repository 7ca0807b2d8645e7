#!/usr/bin/env bash
# Runs the benchmarks in one process each, every figure beside its baseline from the same run.
# Usage: bash tests/bench/run.sh [SECTION...]   (sections: metadata; default: all)
set -euo pipefail
cd "$(dirname "$0")/../.."
fixtures=${CKPT_FIXTURES:-../shared/fixtures/flink}
work=${CKPT_BENCH_DIR:-/tmp/ckpt-bench}
mkdir -p "$work"

cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc 2>/dev/null || echo 2)"
bin=build/release

SECTIONS="${*:-metadata}"
now_ns() { date +%s%N; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }

if [[ " $SECTIONS " == *" metadata "* ]]; then
  echo "== _metadata reader"
  "$bin/tests/bench/bench_metadata" "$fixtures" "$work"
  syn="$work/synthetic-50x200/chk-1000/_metadata"
  "$bin/tests/bench/bench_metadata" --parse-once "$syn"
  t0=$(now_ns)
  "$bin/ckpt" inspect --json "$(dirname "$syn")" > "$work/inspect.json"
  t1=$(now_ns)
  cat "$syn" > /dev/null
  t2=$(now_ns)
  echo "ckpt inspect --json of the synthetic snapshot: $(secs $((t1 - t0))) s end to end" \
       "($(stat -c %s "$work/inspect.json") bytes of JSON; target < 1 s); cat of the same _metadata: $(secs $((t2 - t1))) s"
fi
