#!/usr/bin/env bash
# The main job: installs the dependencies, builds ckpt, runs the bundled streaming pipeline
# (source -> keyBy(word) -> counter -> windows -> sink) with exactly-once checkpoints every 200 ms,
# then shows what the checkpoints hold with `ckpt inspect` and checks them with `ckpt validate`.
# Everything is written under ${CKPT_DEMO_DIR:-/tmp/ckpt-demo} (replaced on each run).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc 2>/dev/null || echo 2)" --target ckpt
ckpt=build/release/ckpt

demo=${CKPT_DEMO_DIR:-/tmp/ckpt-demo}
rm -rf "$demo"
mkdir -p "$demo"

echo "== ckpt run: 2,000,000 generated words at parallelism 2, a checkpoint every 200 ms, 3 retained" >&2
"$ckpt" run --generate 2000000 --vocabulary 50000 --rate 400000 -p 2 --output "$demo/out" \
  -D execution.checkpointing.interval=200ms \
  -D state.checkpoints.dir="$demo/checkpoints" \
  -D state.checkpoints.num-retained=3 \
  -D execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION \
  --keep-checkpoints | tee "$demo/run.txt"
echo >&2
echo "== ckpt inspect: every checkpoint the job left, newest first" >&2
"$ckpt" inspect "$demo/checkpoints"
latest=$(sed -n 's/^latest *//p' "$demo/run.txt")
echo >&2
echo "== ckpt inspect --subtasks: the latest checkpoint, $latest" >&2
"$ckpt" inspect --subtasks "$latest"
echo >&2
echo "== ckpt validate: is it safe to restore from?" >&2
"$ckpt" validate "$latest"
echo >&2
echo "== committed output: the 5 most frequent words (F lines: final totals; W: window counts; C: running counts)" >&2
grep -h '^F' "$demo"/out/part-* | sort -t "$(printf '\t')" -k3,3nr | sed -n 1,5p   # sed reads to the end: no SIGPIPE under pipefail
