#!/usr/bin/env bash
# `ckpt savepoint --stop` in a loop: the job answers and ends right after the savepoint, and the
# answer must still reach the caller every time (a stop-then-restore script relies on exit 0 and
# the printed path). Each try: a rate-limited `ckpt run` in the background, stop it with a
# savepoint, expect exit 0, a printed savepoint directory holding _metadata, and the job ended.
source "$(dirname "$0")/lib.sh"

export CKPT_RUNTIME_DIR=$TMP/runtime
TRIES=${CKPT_SAVEPOINT_TRIES:-20}

for ((t = 0; t < TRIES; t++)); do
  job=$(printf '%032x' $((0x5a0000 + t)))
  # A rate high enough that the job ends within milliseconds of the savepoint (where the answer
  # used to get lost), low enough that it never runs out of input: 10^8 records last minutes.
  "$CKPT" run --generate 100000000 --rate 100000 -p $((1 + t % 2)) --job-id "$job" --output "$TMP/out-$t" \
    -D "state.savepoints.dir=$TMP/sp" >"$TMP/run-$t.out" 2>&1 &
  pid=$!
  # Wait for the job's control file (an event, not wall time).
  for ((i = 0; i < 1500; i++)); do
    [ -f "$CKPT_RUNTIME_DIR/$job/pid" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.02
  done
  expect_exit 0 -- "$CKPT" savepoint --stop --timeout 30s "$job"
  sp=$(head -n 1 "$TMP/out")
  checks=$((checks + 1))
  if [ -z "$sp" ] || [ ! -f "$sp/_metadata" ]; then
    fail "try $t: no savepoint with _metadata at '$sp'"
  fi
  # The job has ended when `savepoint --stop` returns (a zombie until this shell reaps it).
  checks=$((checks + 1))
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
  [ -z "$state" ] || [ "$state" = Z ] || fail "try $t: job $pid still running (state $state) after savepoint --stop"
  kill -9 $pid 2>/dev/null
  wait $pid
  rc=$?
  checks=$((checks + 1))
  [ "$rc" = 0 ] || fail "try $t: ckpt run exited $rc after the stop (expected 0)"
  grep -q 'stopped with savepoint' "$TMP/run-$t.out" || fail "try $t: ckpt run did not report 'stopped with savepoint'"
done

# The savepoints are real: one of them passes validate.
expect_exit 0 -- "$CKPT" validate "$sp"
oracle_roundtrip "$sp/_metadata"
# Answers collected: nothing is left in the runtime directory.
checks=$((checks + 1))
left=$(find "$CKPT_RUNTIME_DIR" -mindepth 1 2>/dev/null | head -3)
[ -z "$left" ] || fail "runtime directory not cleaned up: $left"

finish
