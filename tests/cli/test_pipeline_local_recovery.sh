#!/usr/bin/env bash
# Local recovery and native savepoints of the bundled pipeline's RocksDB backend:
#  * local recovery: a job killed with SIGKILL leaves a local copy of its latest checkpoint per
#    subtask (older copies are pruned); `ckpt restore` builds the databases from those copies and
#    the output equals a failure-free run; with one copy damaged and one deleted it falls back to
#    the checkpoint storage for those subtasks, and the output is still the same.
#  * native savepoints: `ckpt savepoint --type native` writes tag 11 handles whose files all live
#    in the savepoint directory (relative), `validate --deep` accepts them, stop-with-savepoint
#    honours the type, and a moved native savepoint restores to the failure-free output.
source "$(dirname "$0")/lib.sh"

JOB=(--generate 120000 --vocabulary 4000 --window 2s --events-per-second 20000 --seed 11)
expect_exit 0 -- "$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/ref"
sort "$TMP"/ref/part-* >"$TMP/ref.sorted"
[ -s "$TMP/ref.sorted" ] || fail "reference run wrote no output"

same_output() {  # same_output DIR LABEL
  checks=$((checks + 1))
  sort "$1"/part-* >"$TMP/got.sorted"
  cmp -s "$TMP/ref.sorted" "$TMP/got.sorted" || fail "$2: committed output differs from the failure-free run"
}

json_field() {  # json_field NAME: the integer value of "NAME" in $TMP/out (0 when absent)
  local v
  v=$(grep -oE "\"$1\": ?[0-9]+" "$TMP/out" | grep -oE '[0-9]+$')
  echo "${v:-0}"
}

# --- local recovery: kill -9, restore from the local copies ------------------------------------
CK=$TMP/ck
L1=$TMP/local1
L2=$TMP/local2
OPTS=(-p 2 -D execution.checkpointing.interval=50ms -D "state.checkpoints.dir=$CK"
      -D execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION --keep-checkpoints
      -D state.backend.type=rocksdb -D state.backend.incremental=true -D "state.backend.rocksdb.localdir=$TMP"
      -D state.storage.fs.memory-threshold=1kb
      -D state.backend.local-recovery=true -D "taskmanager.state.local.root-dirs=$L1,$L2")
"$CKPT" run "${JOB[@]}" --output "$TMP/o1" --rate 15000 "${OPTS[@]}" >/dev/null 2>"$TMP/run1.err" &
pid=$!
wait_for_checkpoints "$CK" 3 $pid
kill -9 $pid
wait $pid 2>/dev/null
from=$(latest_checkpoint "$CK")
[ -n "$from" ] || fail "no complete checkpoint before the kill"
n=${from##*/chk-}
job=$(basename "$(dirname "$from")")
# Subtask i keeps its copies under root i mod 2, slot i, the job, the counter's vertex.
for i in 0 1; do
  root=$L1; [ $i -eq 1 ] && root=$L2
  sub=$(echo "$root"/localState/aid_*"$i"/jid_"$job"/vtx_*_sti_"$i")
  checks=$((checks + 1))
  [ -d "$sub/chk_$n" ] || fail "subtask $i: no local copy of checkpoint $n in $sub"
  copies=$(ls -d "$sub"/chk_*/*/ 2>/dev/null | grep -c "/chk_$n/")
  checks=$((checks + 1))
  [ "$copies" -eq 2 ] || fail "subtask $i: $copies backend copies in chk_$n, expected 2 (counter, windows)"
  # Checkpoint n-1 was confirmed before the barrier of n reached the task (one checkpoint at a
  # time), so every older copy is pruned; n-1 itself may stay if the kill beat n's confirmation.
  for d in "$sub"/chk_*; do
    checks=$((checks + 1))
    [ "${d##*/chk_}" -ge $((n - 1)) ] || fail "subtask $i: local copy of subsumed checkpoint ${d##*/chk_} kept (latest $n)"
  done
done
# Two restores from the same state: save what the first one changes (the output directory).
cp -a "$TMP/o1" "$TMP/o1.saved"

expect_exit 0 -- "$CKPT" restore "$from" --output "$TMP/o1" --rate 0 "${OPTS[@]}" --json -v
checks=$((checks + 1))
[ "$(json_field localRecoveredSubtasks)" -eq 2 ] && [ "$(json_field remoteRecoveredSubtasks)" -eq 0 ] ||
  fail "restore with intact local copies: expected 2 local, 0 remote subtasks: $(grep -o '"[a-z]*RecoveredSubtasks": *[0-9]*' "$TMP/out" | tr '\n' ' ')"
expect_err "local recovery: 2 subtasks from local state, 0 from the checkpoint storage"
same_output "$TMP/o1" "restore from local state"
new_job=$(grep -oE '"jobId": ?"[0-9a-f]{32}"' "$TMP/out" | grep -oE '[0-9a-f]{32}')
checks=$((checks + 1))
! ls -d "$L1"/localState/*/jid_"$new_job" "$L2"/localState/*/jid_"$new_job" >/dev/null 2>&1 ||
  fail "the finished job left its local state behind"

# Damage subtask 0's copy (a table file of another size) and delete subtask 1's: both fall back.
rm -rf "$TMP/o1" && mv "$TMP/o1.saved" "$TMP/o1"
sst=$(ls "$L1"/localState/*/jid_"$job"/vtx_*_sti_0/chk_"$n"/*/*.sst | head -1)
[ -n "$sst" ] || fail "no table file in subtask 0's local copy"
cp "$sst" "$TMP/sst" && rm "$sst" && head -c 100 "$TMP/sst" >"$sst"
rm -rf "$L2"/localState/*/jid_"$job"/vtx_*_sti_1/chk_"$n"
expect_exit 0 -- "$CKPT" restore "$from" --output "$TMP/o1" --rate 0 "${OPTS[@]}" --json -v
checks=$((checks + 1))
[ "$(json_field localRecoveredSubtasks)" -eq 0 ] && [ "$(json_field remoteRecoveredSubtasks)" -eq 2 ] ||
  fail "restore with damaged local copies: expected 0 local, 2 remote subtasks"
expect_err "subtask 0: .*\.sst: 100 bytes, the checkpoint has"
expect_err "subtask 1: .*no local copy"
same_output "$TMP/o1" "restore falling back to the checkpoint storage"

# In-run recovery (restart strategy) restores from the local copies too.
expect_exit 0 -- "$CKPT" run "${JOB[@]}" --output "$TMP/o5" --rate 30000 --fail-at 20000 "${OPTS[@]}" \
  -D "state.checkpoints.dir=$TMP/ck5" -D restart-strategy.type=fixed-delay -D restart-strategy.fixed-delay.delay=10ms --json
checks=$((checks + 1))
[ "$(json_field restarts)" -eq 1 ] && [ "$(json_field localRecoveredSubtasks)" -eq 2 ] ||
  fail "in-run restart: expected 1 restart with 2 subtasks from local state: $(head -c 300 "$TMP/out")"
same_output "$TMP/o5" "in-run restart from local state"

# Hashmap: accepted but remote only (a warning says so).
expect_exit 0 -- "$CKPT" run --generate 100 --output "$TMP/o2" -D state.backend.local-recovery=true
expect_err "execution.state-recovery.from-local \(state.backend.local-recovery\): ignored: the hashmap backend"

# --- native savepoints ---------------------------------------------------------------------
CK=$TMP/ck3
# Not the id test_pipeline.sh uses: ctest runs the two at once, and `ckpt savepoint JOB_ID` finds
# a running job by its id in the shared runtime directory.
JOB_ID=1123456789abcdef0123456789abcdef
OPTS=(-p 2 -D execution.checkpointing.interval=50ms -D "state.checkpoints.dir=$CK" -D "state.savepoints.dir=$TMP/sp"
      -D state.backend.type=rocksdb -D state.backend.incremental=true -D "state.backend.rocksdb.localdir=$TMP"
      -D state.storage.fs.memory-threshold=1kb)
"$CKPT" run "${JOB[@]}" --output "$TMP/o3" --rate 15000 --job-id $JOB_ID "${OPTS[@]}" >"$TMP/run3" 2>&1 &
pid=$!
wait_for_checkpoints "$CK" 2 $pid
expect_exit 0 -- "$CKPT" savepoint "$CK/$JOB_ID" --type native --json
expect_out '"type": ?"native"'
sp1=$(grep -oE '"savepoint": ?"[^"]*"' "$TMP/out" | sed 's/.*: *"//; s/"$//')
wait_for_checkpoints "$CK" 1 $pid
expect_exit 0 -- "$CKPT" savepoint $JOB_ID "$TMP/sp2" --stop --type native
sp2=$(cat "$TMP/out")
wait $pid
checks=$((checks + 1))
grep -q "stopped with savepoint" "$TMP/run3" || fail "stop-with-savepoint --type native did not stop the job"
for sp in "$sp1" "$sp2"; do
  expect_exit 0 -- "$CKPT" inspect "$sp"
  expect_out "savepoint \(native\)"
  expect_out "backend +rocksdb"
  expect_exit 0 -- "$CKPT" inspect "$sp" --files
  # Self-contained: every file is in the savepoint directory, referenced relatively.
  checks=$((checks + 1))
  grep -qE "absolute" "$TMP/out" && fail "$sp: native savepoint references files by absolute path"
  checks=$((checks + 1))
  grep -q "rocksdb-shared" "$TMP/out" || fail "$sp: incremental native savepoint lists no table files as shared"
  expect_exit 0 -- "$CKPT" validate --deep "$sp"
  oracle_roundtrip "$sp/_metadata"
done
# Moved elsewhere, the stop savepoint restores to the failure-free output.
mkdir -p "$TMP/elsewhere"
mv "$sp2" "$TMP/elsewhere/"
expect_exit 0 -- "$CKPT" restore "$TMP/elsewhere/$(basename "$sp2")" --rate 0 "${OPTS[@]}"
same_output "$TMP/o3" "native stop-with-savepoint, moved, then restore"
# The hashmap backend's native savepoint (tag 12, spec §12.3), chosen by the job's default format
# (the Kubernetes operator's key) for a stop-with-savepoint on SIGTERM.
OPTS=(-p 2 -D execution.checkpointing.interval=50ms -D "state.checkpoints.dir=$TMP/ck4" -D "state.savepoints.dir=$TMP/sp4"
      -D kubernetes.operator.savepoint.format.type=NATIVE)
"$CKPT" run "${JOB[@]}" --output "$TMP/o4" --rate 15000 --stop-with-savepoint-on-sigterm "${OPTS[@]}" >"$TMP/run4" 2>&1 &
pid=$!
wait_for_checkpoints "$TMP/ck4" 1 $pid
kill -TERM $pid
wait $pid
sp=$(sed -n 's/^savepoint *//p' "$TMP/run4" | tail -1)
expect_exit 0 -- "$CKPT" inspect "$sp" --subtasks
expect_out 'savepoint \(native\), type "Suspend Savepoint"'
expect_out "managed keyed: .*\(tag 12\)"
expect_exit 0 -- "$CKPT" validate --deep "$sp"
oracle_roundtrip "$sp/_metadata"
expect_exit 0 -- "$CKPT" restore "$sp" --rate 0 "${OPTS[@]}"
same_output "$TMP/o4" "hashmap native stop-with-savepoint on SIGTERM, then restore"

finish
