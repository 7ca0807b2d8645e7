#!/usr/bin/env bash
# Kill -9 during `ckpt prune` apply, then rerun: it converges to the state of an uninterrupted
# run, every kept snapshot validates, and no file a --protect snapshot uses is gone.
#   * 45 trials crash right after the N-th deletion (CKPT_TEST_CRASH_AFTER=N, N random over the
#     whole plan, so every phase is hit), then rerun;
#   * 15 trials kill -9 a real run at a random moment on a larger root, then rerun.
source "$(dirname "$0")/lib.sh"
GEN="$(dirname "$CKPT")/tests/bench/bench_prune"
[ -x "$GEN" ] || { echo "bench_prune not built (CKPT_BENCH=OFF): skipped"; exit 77; }
NOW=1700100000
RANDOM=4242

# make ROOT CHECKPOINTS SUBTASKS: a job plus a protected savepoint outside the root that uses the
# oldest checkpoint's shared files (which a --retain 3 would otherwise release).
make() {
  rm -rf "$1" "$1.protect"
  "$GEN" gen "$1" "$2" "$3" 4 2 7 >/dev/null
  local job
  job=$(ls "$1")
  "$GEN" savepoint "$1/$job/chk-1" "$1.protect/savepoint-abcdef-000000000001" >/dev/null
}

listing() { (cd "$1" && find . | sort); }

prune() { "$CKPT" prune "$1" --retain 3 --protect "$1.protect" --now $NOW "${@:2}"; }

verify() {  # verify ROOT LABEL
  local root=$1 label=$2
  checks=$((checks + 1))
  if ! prune "$root" >"$TMP/rerun.out" 2>"$TMP/rerun.err"; then
    fail "$label: rerun failed: $(head -3 "$TMP/rerun.err")"
    return
  fi
  [ "$(listing "$root")" = "$reference" ] || fail "$label: rerun did not converge to the uninterrupted result"
  "$CKPT" validate "$root" >"$TMP/v.out" 2>&1 || fail "$label: a kept snapshot fails ckpt validate: $(grep -v ': valid' "$TMP/v.out" | head -2)"
  "$GEN" check "$root" "$root.protect" >"$TMP/c.out" || fail "$label: $(head -2 "$TMP/c.out")"
  prune "$root" --dry-run >"$TMP/dry.out" 2>&1
  grep -q "Would delete 0 files and 0 directories" "$TMP/dry.out" || fail "$label: a second rerun still has work"
}

# The uninterrupted result, and the plan length.
small=$TMP/small
make "$small" 12 5
prune "$small" --dry-run --json >"$TMP/plan.json" || fail "dry run"
steps=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["deletions"]))' "$TMP/plan.json")
prune "$small" >/dev/null || fail "uninterrupted run"
reference=$(listing "$small")
[ "$steps" -gt 40 ] || fail "plan too short ($steps steps)"

trials=0
for t in $(seq 1 45); do
  make "$small" 12 5
  n=$((1 + RANDOM % (steps - 1)))
  CKPT_TEST_CRASH_AFTER=$n prune "$small" >/dev/null 2>&1
  rc=$?
  checks=$((checks + 1))
  [ "$rc" = 137 ] || fail "trial $t: expected death by SIGKILL after $n deletions, exit $rc"
  verify "$small" "crash after $n deletions"
  trials=$((trials + 1))
done

big=$TMP/big
make "$big" 100 30
prune "$big" >/dev/null || fail "uninterrupted big run"
reference=$(listing "$big")
killed=0
for t in $(seq 1 15); do
  make "$big" 100 30
  "$CKPT" prune "$big" --retain 3 --protect "$big.protect" --now $NOW >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(printf '%02d' $((RANDOM % 25)))"
  kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
  wait "$pid" 2>/dev/null
  verify "$big" "timed kill -9 (trial $t)"
  trials=$((trials + 1))
done
echo "$trials kill -9 trials ($killed timed kills landed while running)"
[ "$trials" -ge 50 ] || fail "only $trials trials"
finish
