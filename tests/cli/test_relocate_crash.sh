#!/usr/bin/env bash
# kill -9 during `ckpt convert --relocate OLD=NEW --in-place`, then rerun: every `_metadata` is at
# all times either its old bytes or its new bytes (never torn), the rerun finishes the job, and
# the repaired root is what an uninterrupted run makes: every reference resolves, gc finds nothing.
source "$(dirname "$0")/lib.sh"
GEN="$(dirname "$CKPT")/tests/bench/bench_prune"
[ -x "$GEN" ] || { echo "bench_prune not built (CKPT_BENCH=OFF): skipped"; exit 77; }
RANDOM=1313

# A job of 80 checkpoints written under $TMP/old, then moved to $TMP/new/root.
"$GEN" gen "$TMP/old" 80 4 4 2 7 >/dev/null
mkdir -p "$TMP/new"
mv "$TMP/old" "$TMP/new/root"
ROOT=$TMP/new/root
fix=(--relocate "$TMP/old=$ROOT" --in-place "$ROOT")
sums() { (cd "$1" && find . -name _metadata -print0 | sort -z | xargs -0 md5sum); }

cp -a "$ROOT" "$TMP/pristine"
old_sums=$(sums "$ROOT")
expect_exit 1 -- "$CKPT" gc --grace 0s --dry-run "$ROOT"
expect_err "Fix the references: ckpt convert --relocate $TMP/old=$ROOT --in-place $ROOT"
expect_exit 0 -- "$CKPT" convert "${fix[@]}"
expect_out "^80 snapshots rewritten, 0 without matching paths, 0 failed"
new_sums=$(sums "$ROOT")
[ "$old_sums" != "$new_sums" ] || fail "nothing was rewritten"
# The generator's encodings are not all the ones Flink's writer picks: Flink must read the result.
oracle_read "$(find "$ROOT" -name _metadata | head -1)"

torn=0
for trial in $(seq 1 8); do
  rm -rf "$ROOT"
  cp -a "$TMP/pristine" "$ROOT"
  "$CKPT" convert "${fix[@]}" >/dev/null 2>&1 &
  pid=$!
  sleep "0.$((RANDOM % 8))$((RANDOM % 10))"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  # Each file is old or new, never anything else.
  while read -r sum path; do
    grep -qF "$sum  $path" <<<"$old_sums" || grep -qF "$sum  $path" <<<"$new_sums" || torn=$((torn + 1))
  done < <(sums "$ROOT")
  expect_exit 0 -- "$CKPT" convert "${fix[@]}"
  [ "$(sums "$ROOT")" = "$new_sums" ] || fail "trial $trial: the rerun did not converge"
  [ -z "$(find "$ROOT" -name '._metadata.*.tmp')" ] || fail "trial $trial: a temporary file stayed"
done
checks=$((checks + 1))
[ "$torn" = 0 ] || fail "$torn _metadata files were neither old nor new after kill -9"
"$GEN" check "$ROOT" >"$TMP/check.out" || fail "a reference does not resolve after the repair: $(head -2 "$TMP/check.out")"
expect_exit 0 -- "$CKPT" gc --grace 0s --dry-run "$ROOT"
expect_out "Would delete 0 files and 0 directories"
expect_exit 0 -- "$CKPT" validate "$ROOT"

finish
