#!/usr/bin/env bash
# Installs the dependencies, builds ckpt with warnings as errors, and runs every test: the whole
# suite (unit and CLI end-to-end) in an optimised build, then the unit tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer, and fuzzes the `_metadata` reader for a minute.
#
# Tests over the real Flink fixtures read $CKPT_FIXTURES (default ../shared/fixtures/flink) and
# report "skipped" when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

echo "== format (clang-format, .clang-format)" >&2
# Every C++ file as .clang-format lays it out; `git ls-files` where this is a clone, else find.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z '*.cpp' '*.h' | xargs -0 clang-format --dry-run --Werror
else
  find cli lib tests -name '*.cpp' -o -name '*.h' | xargs clang-format --dry-run --Werror
fi

echo "== build (ci preset: -O2, -Werror)" >&2
cmake --preset ci >/dev/null
# What the tests run: the CLI, the unit tests and the generator the prune tests use. The other
# benchmark programs are built (and timed) by tests/bench/run.sh; building them here cost CI
# minutes of its 30.
cmake --build --preset ci -j "$jobs" --target ckpt ckpt_unit_tests bench_prune
# The unit tests' scratch directories go to tmpfs when there is one: the RocksDB tests open and
# write hundreds of small databases, and fsync on disk makes them 2.5x slower. The CLI tests run
# on the disk, the file system users have.
scratch=${TMPDIR:-/tmp}
if [ -d /dev/shm ] && [ -w /dev/shm ]; then scratch=/dev/shm; fi
echo "== unit tests (ci preset)" >&2
TMPDIR=$scratch ctest --preset ci -j "$jobs" -R '^unit'
echo "== CLI end-to-end tests (ci preset)" >&2
ctest --preset ci -j "$jobs" -E '^unit'

echo "== build (asan preset: ASan + UBSan, -Werror)" >&2
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs" --target ckpt_unit_tests
echo "== unit tests under ASan + UBSan" >&2
TMPDIR=$scratch ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --preset asan -j "$jobs" -R '^unit'


echo "== fuzz: the _metadata reader for 60 s (fuzz preset: clang, libFuzzer, ASan + UBSan)" >&2
# Seeded from the fixtures and the kept regression inputs; a crash input lands in
# tests/fuzz/regressions/ and fails the run.
fuzz_work=$(mktemp -d "${scratch}/ckpt-fuzz.XXXXXX")
CKPT_FUZZ_WORK=$fuzz_work bash tests/fuzz/run.sh 60
rm -rf "$fuzz_work"
