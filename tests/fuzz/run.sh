#!/usr/bin/env bash
# Builds the fuzz preset and runs the `_metadata` reader fuzzer for SECONDS (default 60) over a
# seed corpus made from the real fixtures plus every kept regression input. New crash inputs land
# in tests/fuzz/regressions/ (replayed by the unit tests); the script then exits non-zero.
#
# Environment: CKPT_FIXTURES (fixture root), CKPT_FUZZ_BUILD (build directory; default: the
# "fuzz" preset's build/fuzz), CKPT_FUZZ_WORK (corpus work dir; default tests/fuzz/corpus-work).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
fixtures=${CKPT_FIXTURES:-../shared/fixtures/flink}
build=${CKPT_FUZZ_BUILD:-}
work=${CKPT_FUZZ_WORK:-tests/fuzz/corpus-work}

jobs=$(nproc 2>/dev/null || echo 2)
if [ -z "$build" ]; then
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz --target fuzz_metadata -j "$jobs"
  build=build/fuzz
else
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DCKPT_FUZZ=ON -DCKPT_SANITIZE=ON -DCKPT_TESTS=OFF -DCKPT_BENCH=OFF >/dev/null
  cmake --build "$build" --target fuzz_metadata -j "$jobs"
fi

mkdir -p "$work/corpus" tests/fuzz/regressions
if [ -d "$fixtures" ]; then
  find "$fixtures" -type f -name _metadata -size -200k -print0 |
    while IFS= read -r -d '' f; do
      cp -n "$f" "$work/corpus/$(sha1sum "$f" | cut -c1-16)"
    done
else
  echo "run.sh: no fixtures at $fixtures; seeding from the regression inputs only" >&2
fi
find tests/fuzz/regressions -maxdepth 1 -type f ! -name '*.md' -exec cp -n {} "$work/corpus/" \;
if [ -z "$(ls -A "$work/corpus")" ]; then printf '\x49\x60\x67\x2d\x00\x00\x00\x03' >"$work/corpus/seed"; fi

ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$build/tests/fuzz/fuzz_metadata" "$work/corpus" \
  -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=262144 -timeout=10 \
  -artifact_prefix=tests/fuzz/regressions/ -print_final_stats=1
