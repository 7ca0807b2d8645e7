#!/usr/bin/env bash
# Exactly-once property of the bundled pipeline: `ckpt run` is killed with SIGKILL at random
# moments (often in the middle of writing a checkpoint, with a 30 ms interval), `ckpt restore`
# resumes from the latest complete checkpoint, and the committed output at the end must equal a
# failure-free run byte for byte (as a sorted multiset of lines: part files are per subtask and
# checkpoint, so their split and order depend on thread timing; every line itself is
# deterministic — window counts, sampled running counts, final totals).
#
# Short by default (CI); CKPT_PIPELINE_LONG=1 runs more records and kills.
source "$(dirname "$0")/lib.sh"

RECORDS=${CKPT_PIPELINE_RECORDS:-120000}
KILLS=${CKPT_PIPELINE_KILLS:-7}
RATE=${CKPT_PIPELINE_RATE:-40000}
# P:KIND[:BACKEND]; BACKEND is hashmap (default), rocksdb (native full checkpoints) or
# rocksdb-incremental (tests/cli/test_pipeline_rocksdb.sh runs this script with those).
CONFIGS=${CKPT_PIPELINE_CONFIGS:-"1:aligned 2:aligned 4:aligned 1:unaligned 2:unaligned 4:unaligned"}
if [ -n "${CKPT_PIPELINE_LONG:-}" ]; then
  RECORDS=600000
  KILLS=25
  RATE=60000
fi
# Aligned runs are killed KILL_AFTER_MS + 0..250 ms after each start (RocksDB checkpoints take
# longer: test_pipeline_rocksdb.sh raises it so that kills land after checkpoints).
KILL_AFTER_MS=${CKPT_PIPELINE_KILL_AFTER_MS:-50}
SEED=$RANDOM
echo "seed $SEED, $RECORDS records, $KILLS kills per configuration"
RANDOM=$SEED

# Aligned runs are rate-limited so that kills land all over the run; unaligned runs go at full
# speed, so that the channels are backpressured and checkpoints carry in-flight records, and they
# need 10x the records to last as long.
job() {  # job KIND: the job's arguments
  local n=$RECORDS
  [ "$1" = unaligned ] && n=$((RECORDS * 10))
  echo --generate "$n" --vocabulary 5000 --window 2s --events-per-second 20000 --seed 7
}
for kind in aligned unaligned; do
  case " $CONFIGS " in *":$kind "* | *":$kind:"*) ;; *) continue ;; esac
  expect_exit 0 -- "$CKPT" run $(job $kind) -p 1 --output "$TMP/ref-$kind"
  sort "$TMP"/ref-$kind/part-* >"$TMP/ref-$kind.sorted"
  [ -s "$TMP/ref-$kind.sorted" ] || fail "reference run ($kind) wrote no output"
done


for cfg in $CONFIGS; do
  p=${cfg%%:*}
  kind=${cfg#*:}
  backend=${kind#*:}
  [ "$backend" = "$kind" ] && backend=hashmap
  kind=${kind%%:*}
  out="$TMP/out-$p-$kind-$backend"
  ck="$TMP/ck-$p-$kind-$backend"
  opts=(-D execution.checkpointing.interval=30ms -D "state.checkpoints.dir=$ck" -D state.checkpoints.num-retained=2
        -D execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION
        -D state.storage.fs.memory-threshold=1kb --keep-checkpoints)
  case "$backend" in
    rocksdb) opts+=(-D state.backend.type=rocksdb -D state.backend.incremental=false -D "state.backend.rocksdb.localdir=$TMP") ;;
    rocksdb-incremental) opts+=(-D state.backend.type=rocksdb -D state.backend.incremental=true -D "state.backend.rocksdb.localdir=$TMP") ;;
  esac
  # --keep-checkpoints: a kill can land after the final checkpoint of a finished job; Flink would
  # then have discarded its checkpoints, and this harness would wrongly start over. Restoring from
  # the final checkpoint instead must add nothing.
  if [ "$kind" = unaligned ]; then
    opts+=(-D execution.checkpointing.unaligned=true)
  else
    opts+=(--rate "$((RATE / p))")
  fi
  killed=0
  restores=0
  "$CKPT" run $(job $kind) -p "$p" --output "$out" "${opts[@]}" >/dev/null 2>"$TMP/err-$p-$kind" &
  pid=$!
  while [ "$killed" -lt "$KILLS" ]; do
    if [ "$kind" = unaligned ]; then
      sleep "0.0$((RANDOM % 9 + 1))"
    else
      ms=$((KILL_AFTER_MS + RANDOM % 250))
      sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid"
      rc=$?
      [ "$rc" -eq 0 ] || { fail "$cfg: run exited $rc"; cat "$TMP/err-$p-$kind" >&2; }
      break
    fi
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    killed=$((killed + 1))
    from=$(latest_checkpoint "$ck")
    if [ -n "$from" ]; then
      "$CKPT" restore "$from" -p "$p" "${opts[@]}" >/dev/null 2>"$TMP/err-$p-$kind" &
      restores=$((restores + 1))
    else
      "$CKPT" run $(job $kind) -p "$p" --output "$out" "${opts[@]}" >/dev/null 2>"$TMP/err-$p-$kind" &
    fi
    pid=$!
  done
  wait "$pid"
  rc=$?
  checks=$((checks + 1))
  if [ "$rc" -ne 0 ]; then
    fail "$cfg: final attempt exited $rc"
    cat "$TMP/err-$p-$kind" >&2
    continue
  fi
  channel=0
  with_channel=()
  for m in "$ck"/*/chk-*/_metadata; do
    [ -f "$m" ] && "$CKPT" inspect "$(dirname "$m")" | grep -qE "channel [1-9]" && channel=$((channel + 1)) && with_channel+=("$m")
  done
  sort "$out"/part-* >"$TMP/got.sorted"
  checks=$((checks + 1))
  if cmp -s "$TMP/ref-$kind.sorted" "$TMP/got.sorted"; then
    echo "$cfg: $killed kills, $restores restores ($channel retained checkpoints with channel state): output equals the failure-free run"
  else
    fail "$cfg: $killed kills, $restores restores: committed output differs from the failure-free run"
    diff "$TMP/ref-$kind.sorted" "$TMP/got.sorted" | head -10 >&2
  fi
  # Every checkpoint the pipeline left behind is readable and valid (RocksDB: every table file
  # opens and checksums, every shared file is still there).
  deep=()
  [ "$backend" = hashmap ] || deep=(--deep)
  for m in "$ck"/*/chk-*/_metadata; do
    [ -f "$m" ] || continue
    expect_exit 0 -- "$CKPT" inspect --files "$(dirname "$m")"
    expect_exit 0 -- "$CKPT" validate "${deep[@]}" "$(dirname "$m")"
  done
  # Flink loads the latest one (and one with channel state) and writes it back byte for byte.
  latest=$(latest_checkpoint "$ck")
  [ -z "$latest" ] || oracle_roundtrip "$latest/_metadata" "${with_channel[@]:0:1}"
done
finish
