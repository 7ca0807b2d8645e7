#!/usr/bin/env bash
# The bundled pipeline on the RocksDB state backend (state.backend.type: rocksdb):
#  * exactly-once under kill -9 with native full and incremental checkpoints, P 1 and 2, aligned
#    (test_pipeline_kill.sh with rocksdb configurations; its checks also run inspect and
#    validate --deep on every checkpoint left behind);
#  * a long incremental run with num-retained=3, frozen by kill -9 at random moments: every
#    complete checkpoint then passes validate --deep (no shared file deleted while a retained
#    checkpoint uses it), table files are reused across checkpoints, and at the end shared/ holds
#    only files the retained checkpoints reference;
#  * restore with another parallelism (key groups inserted from the overlapping databases);
#  * the hashmap backend refuses a native RocksDB checkpoint with a one-line reason.
source "$(dirname "$0")/lib.sh"

checks=$((checks + 1))
CKPT_PIPELINE_CONFIGS="1:aligned:rocksdb 2:aligned:rocksdb 1:aligned:rocksdb-incremental 2:aligned:rocksdb-incremental" \
  CKPT_PIPELINE_KILLS=${CKPT_PIPELINE_KILLS:-5} CKPT_PIPELINE_KILL_AFTER_MS=${CKPT_PIPELINE_KILL_AFTER_MS:-500} bash "$(dirname "$0")/test_pipeline_kill.sh" "$CKPT" "$FIXTURES" ||
  fail "exactly-once under kill -9 on the rocksdb backend"

JOB=(--generate 200000 --vocabulary 20000 --window 2s --events-per-second 20000 --seed 11)
expect_exit 0 -- "$CKPT" run "${JOB[@]}" -p 1 --output "$TMP/ref"
sort "$TMP"/ref/part-* >"$TMP/ref.sorted"

# same_output LABEL DIR: the committed output in DIR equals the failure-free run (sorted lines).
same_output() {
  checks=$((checks + 1))
  sort "$2"/part-* >"$TMP/got.sorted"
  cmp -s "$TMP/ref.sorted" "$TMP/got.sorted" && { echo "$1: output equals the failure-free run"; return; }
  fail "$1: committed output differs from the failure-free run"
  diff "$TMP/ref.sorted" "$TMP/got.sorted" | head -5 >&2
}

# Referenced files of a checkpoint directory, one absolute path per line.
refs() { "$CKPT" inspect --files "$1" | awk '$1 ~ /^\// { print $1 }'; }

ck="$TMP/ck-long"
opts=(-D state.backend.type=rocksdb -D state.backend.incremental=true -D "state.backend.rocksdb.localdir=$TMP"
      -D execution.checkpointing.interval=50ms -D "state.checkpoints.dir=$ck" -D state.checkpoints.num-retained=3
      -D execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION
      -D state.storage.fs.memory-threshold=1kb --keep-checkpoints)
opts+=(--rate 20000)
"$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/out-long" "${opts[@]}" >/dev/null 2>"$TMP/err-long" &
pid=$!
kills=0
validated=0
reused=0
while [ "$kills" -lt 6 ]; do
  sleep "1.$((RANDOM % 10))"
  kill -0 "$pid" 2>/dev/null || break
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  kills=$((kills + 1))
  for m in "$ck"/*/chk-*/_metadata; do
    [ -f "$m" ] || continue
    expect_exit 0 -- "$CKPT" validate --deep "$(dirname "$m")"
    validated=$((validated + 1))
  done
  # A table file referenced by two retained checkpoints of one job: incremental reuse.
  for jd in "$ck"/*/; do
    n=$(for m in "$jd"chk-*/_metadata; do [ -f "$m" ] && refs "$(dirname "$m")" | grep /shared/ | sort -u; done | sort | uniq -d | wc -l)
    [ "$n" -gt 0 ] && reused=$((reused + 1))
  done
  from=$(latest_checkpoint "$ck")
  if [ -n "$from" ]; then
    "$CKPT" restore "$from" -p 2 "${opts[@]}" >/dev/null 2>"$TMP/err-long" &
  else
    "$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/out-long" "${opts[@]}" >/dev/null 2>"$TMP/err-long" &
  fi
  pid=$!
done
wait "$pid"
rc=$?
checks=$((checks + 1))
[ "$rc" -eq 0 ] || { fail "long run: final attempt exited $rc"; cat "$TMP/err-long" >&2; }
echo "long run: $kills kills, $validated checkpoint validations (--deep), reuse seen after $reused kills"
checks=$((checks + 1))
[ "$validated" -gt 0 ] || fail "long run: no checkpoint to validate"
same_output "long run" "$TMP/out-long"
# The job that finished: at most 3 retained checkpoints, all valid, and shared/ holds only what
# they reference (subsumed checkpoints released their files).
last_job=$(dirname "$(latest_checkpoint "$ck")")
retained=0
: >"$TMP/referenced"
for m in "$last_job"/chk-*/_metadata; do
  [ -f "$m" ] || continue
  retained=$((retained + 1))
  expect_exit 0 -- "$CKPT" validate --deep "$(dirname "$m")"
  oracle_roundtrip "$m"
  refs "$(dirname "$m")" >>"$TMP/referenced"
done
n=$(sort "$TMP/referenced" | grep /shared/ | uniq -d | wc -l)
[ "$n" -gt 0 ] && reused=$((reused + 1))
checks=$((checks + 1))
[ "$reused" -gt 0 ] || fail "long run: no table file was reused by a later checkpoint"
checks=$((checks + 1))
[ "$retained" -ge 1 ] && [ "$retained" -le 3 ] || fail "long run: $retained retained checkpoints (num-retained=3)"
orphans=0
for f in "$last_job"/shared/*; do
  [ -f "$f" ] || continue
  grep -qxF "$f" "$TMP/referenced" || orphans=$((orphans + 1))
done
checks=$((checks + 1))
[ "$orphans" -eq 0 ] || fail "long run: $orphans files in shared/ no retained checkpoint references"

# Rescaling: a checkpoint of P=2 restored at P=3, then at P=1; the output stays exactly-once.
ck="$TMP/ck-rescale"
opts=(-D state.backend.type=rocksdb -D state.backend.incremental=true -D "state.backend.rocksdb.localdir=$TMP"
      -D execution.checkpointing.interval=50ms -D "state.checkpoints.dir=$ck" -D state.checkpoints.num-retained=2
      -D execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION --keep-checkpoints)
"$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/out-rescale" --rate 40000 "${opts[@]}" >/dev/null 2>"$TMP/err-rescale" &
pid=$!
wait_for_checkpoints "$ck" 3 "$pid"
kill -9 "$pid"
wait "$pid" 2>/dev/null
from=$(latest_checkpoint "$ck")
"$CKPT" restore "$from" -p 3 --rate 40000 "${opts[@]}" >/dev/null 2>"$TMP/err-rescale" &
pid=$!
wait_for_checkpoints "$ck" 3 "$pid"
kill -9 "$pid"
wait "$pid" 2>/dev/null
from=$(latest_checkpoint "$ck")
expect_exit 0 -- "$CKPT" validate --deep "$from"
oracle_roundtrip "$from/_metadata"

# A configured hashmap backend cannot restore native RocksDB state: one line naming the reason.
expect_exit 2 -- "$CKPT" restore "$from" -p 1 -D "state.checkpoints.dir=$ck" -D state.backend.type=hashmap
expect_err "rocksdb"

# Without state.backend.type, the backend is the snapshot's (RocksDB): ${opts[@]:2} drops it.
[ "${opts[1]}" = state.backend.type=rocksdb ] || fail "test setup: opts must start with the backend"
expect_exit 0 -- "$CKPT" restore "$from" -p 1 "${opts[@]:2}" -v
expect_err "state backend: rocksdb, as the snapshot's"
same_output "rescale 2 -> 3 -> 1" "$TMP/out-rescale"
finish
