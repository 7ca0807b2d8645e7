#!/usr/bin/env bash
# The other commands on snapshots the bundled pipeline writes: a job is killed mid-run, and its
# latest checkpoint goes through diff, convert --self-contained, pack/unpack and (RocksDB
# incremental) compact; restoring from each result must still give exactly the output of a run
# that never failed. prune and gc then clean the job directory without breaking what they keep.
source "$(dirname "$0")/lib.sh"

JOB=(--generate 200000 --vocabulary 5000 --window 2s --events-per-second 20000 --seed 5)
expect_exit 0 -- "$CKPT" run "${JOB[@]}" -p 1 --output "$TMP/ref"
sort "$TMP"/ref/part-* >"$TMP/ref.sorted"

# restore_equals LABEL SNAPSHOT: restores SNAPSHOT into a fresh copy of the killed job's output
# directory (same path: the sink's pending files are recorded by absolute path) and compares.
restore_equals() {
  rm -rf "$TMP/job-out"
  cp -a "$TMP/job-out.at-kill" "$TMP/job-out"
  expect_exit 0 -- "$CKPT" restore "$2" -p 2 "${OPTS[@]}" -D "state.checkpoints.dir=$TMP/ck-restored"
  checks=$((checks + 1))
  if cmp -s "$TMP/ref.sorted" <(sort "$TMP"/job-out/part-*); then
    echo "$1: output equals the failure-free run"
  else
    fail "$1: committed output differs from the failure-free run"
  fi
}

for backend in hashmap rocksdb-incremental; do
  ck=$TMP/ck-$backend
  OPTS=(-D execution.checkpointing.interval=40ms -D state.checkpoints.num-retained=3
        -D execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION
        -D state.storage.fs.memory-threshold=1kb --keep-checkpoints)
  if [ "$backend" = rocksdb-incremental ]; then
    OPTS+=(-D state.backend.type=rocksdb -D state.backend.incremental=true -D "state.backend.rocksdb.localdir=$TMP")
  fi
  rm -rf "$TMP/job-out" "$TMP/ck-restored"
  "$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/job-out" --rate 20000 -D "state.checkpoints.dir=$ck" "${OPTS[@]}" >/dev/null 2>&1 &
  pid=$!
  wait_for_checkpoints "$ck" 4 $pid
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  cp -a "$TMP/job-out" "$TMP/job-out.at-kill"
  latest=$(latest_checkpoint "$ck")
  [ -n "$latest" ] || { fail "$backend: no checkpoint"; continue; }
  # An older complete checkpoint (a chk-N without _metadata is in flight or half subsumed).
  older=$(ls -d "$(dirname "$latest")"/chk-*/_metadata | sed 's|/_metadata$||' | grep -v "^$latest\$" | head -1)

  # diff: a checkpoint equals itself; two checkpoints of a running job differ.
  expect_exit 0 -- "$CKPT" diff "$latest" "$latest"
  [ -z "$older" ] || expect_exit 1 -- "$CKPT" diff "$older" "$latest"
  expect_exit 0 -- "$CKPT" validate --deep "$latest"

  # convert --self-contained: a relocatable copy that restores to the same result.
  expect_exit 0 -- "$CKPT" convert "$latest" --self-contained "$TMP/sc-$backend"
  expect_exit 0 -- "$CKPT" validate --deep "$TMP/sc-$backend"
  oracle_roundtrip "$latest/_metadata" "$TMP/sc-$backend/_metadata"
  restore_equals "$backend: from convert --self-contained" "$TMP/sc-$backend"

  # pack / unpack: one archive, verified on the way out.
  expect_exit 0 -- "$CKPT" pack "$latest" "$TMP/$backend.ckpt"
  expect_exit 0 -- "$CKPT" unpack "$TMP/$backend.ckpt" "$TMP/unpacked-$backend"
  expect_exit 0 -- "$CKPT" validate --deep "$TMP/unpacked-$backend"
  oracle_roundtrip "$TMP/unpacked-$backend/_metadata"
  restore_equals "$backend: from pack + unpack" "$TMP/unpacked-$backend"

  if [ "$backend" = rocksdb-incremental ]; then
    # compact: fewer files, same entries, and still the same result after a restore.
    expect_exit 0 -- "$CKPT" compact "$latest" -o "$TMP/compacted"
    expect_exit 0 -- "$CKPT" validate --deep "$TMP/compacted"
    oracle_roundtrip "$TMP/compacted/_metadata"
    restore_equals "$backend: from compact" "$TMP/compacted"
  fi

  # prune keeps the newest checkpoint (and every shared file it uses); gc then finds nothing
  # that a kept checkpoint needs.
  expect_exit 0 -- "$CKPT" prune --retain 1 --grace 0 "$ck"
  expect_exit 0 -- "$CKPT" gc --grace 0 "$ck"
  checks=$((checks + 1))
  n=$(ls -d "$ck"/*/chk-* | wc -l)
  [ "$n" -eq 1 ] || fail "$backend: prune --retain 1 and gc left $n chk-* directories"
  expect_exit 0 -- "$CKPT" validate --deep "$latest"
  restore_equals "$backend: from the checkpoint kept by prune and gc" "$latest"
  rm -rf "$TMP/job-out.at-kill"
done
finish
