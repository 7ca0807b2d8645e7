#!/usr/bin/env bash
# The bundled pipeline with its checkpoints and savepoints on s3:// (the local S3 behind the
# strict SigV4 proxy): `ckpt run -D state.checkpoints.dir=s3://...` writes Flink's layout as
# objects (`_metadata` last), survives kill -9 and injected 503s, and `ckpt restore s3://...`
# resumes exactly once (the committed output equals a failure-free run); savepoints are taken
# into and restored from the store; CLAIM mode deletes the claimed checkpoint there, NO_CLAIM
# never touches it.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../cli/lib.sh
. "$here/../cli/lib.sh" "$1" "$2"
# shellcheck source=lib_s3.sh
. "$here/lib_s3.sh"

s3_start
B=ckpt-run
s3_mb "$B" || fail "mb $B"

JOB=(--generate 60000 --vocabulary 2000 --window 1s --events-per-second 20000 --seed 11 -p 2)
expect_exit 0 -- "$CKPT" run "${JOB[@]}" --output "$TMP/ref"
sort "$TMP"/ref/part-* >"$TMP/ref.sorted"
[ -s "$TMP/ref.sorted" ] || fail "the reference run wrote no output"

# s3_latest_id PREFIX: the highest N of a complete chk-N under PREFIX (0 when none).
s3_latest_id() { s3_ls "$1" | sed -n 's|.*/chk-\([0-9]*\)/_metadata$|\1|p' | sort -n | tail -1 | grep . || echo 0; }

# wait_for_s3_checkpoints PREFIX N PID: until checkpoint N is complete under PREFIX, or PID ended
# (a failed check: the kill must land while the job runs).
wait_for_s3_checkpoints() {
  local i
  for ((i = 0; i < 300; i++)); do
    kill -0 "$3" 2>/dev/null || { fail "the job under $1 ended before checkpoint $2"; return 0; }
    [ "$(s3_latest_id "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  fail "no checkpoint $2 under $1 within 60 s"
}

# same_output LABEL DIR: the committed output in DIR equals the failure-free run's.
same_output() {
  checks=$((checks + 1))
  cmp -s <(sort "$2"/part-* 2>/dev/null) "$TMP/ref.sorted" ||
    fail "$1: the committed output differs from a run without failure ($(cat "$2"/part-* 2>/dev/null | wc -l) lines, expected $(wc -l <"$TMP/ref.sorted"))"
}

# validate_complete PREFIX: every complete snapshot under PREFIX validates (a kill -9 leaves an
# incomplete chk-N behind, which a root's validation reports as a problem).
validate_complete() {
  local m
  for m in $(s3_ls "$1/" | grep '/_metadata$'); do
    expect_exit 0 -- "$CKPT" validate "s3://$B/$m"
  done
}

# layout_ok LABEL PREFIX JOB: every object is JOB/chk-N/<file> or JOB/shared/<file>, and every
# complete checkpoint validates; the latest `_metadata` goes through Flink's loader and writer.
layout_ok() {
  local label=$1 prefix=$2 job=$3 latest
  checks=$((checks + 1))
  local odd
  odd=$(s3_ls "$prefix/" | sed "s|^${prefix#s3://$B/}/||" | grep -vE "^$job/(chk-[0-9]+|shared)/[^/]+$")
  [ -z "$odd" ] || fail "$label: objects outside Flink's layout: $(echo "$odd" | head -3 | tr '\n' ' ')"
  validate_complete "$prefix"
  latest=$(s3_ls "$prefix/$job/" | latest_metadata_key)
  mkdir -p "$TMP/md-$label"
  s3_aws s3 cp --quiet "s3://$B/$latest" "$TMP/md-$label/_metadata" || fail "$label: download $latest"
  oracle_roundtrip "$TMP/md-$label/_metadata"
}

# latest_metadata_key: of the keys on stdin, the `_metadata` of the highest chk-N (by number:
# chk-10 after chk-9).
latest_metadata_key() {
  sed -n 's|^\(.*/chk-\([0-9][0-9]*\)/_metadata\)$|\2 \1|p' | sort -n | tail -1 | cut -d' ' -f2
}

# --- kill -9 mid-run, then restore from the job's prefix: exactly once --------------------------
for backend in hashmap rocksdb-incremental; do
  ck=s3://$B/ck-$backend
  out=$TMP/out-$backend
  opts=(-D execution.checkpointing.interval=50ms -D "state.checkpoints.dir=$ck" -D state.checkpoints.num-retained=2
        -D execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION
        -D state.storage.fs.memory-threshold=1kb --keep-checkpoints)
  [ "$backend" = rocksdb-incremental ] &&
    opts+=(-D state.backend.type=rocksdb -D state.backend.incremental=true -D "state.backend.rocksdb.localdir=$TMP/rdb")
  # 10 % of the requests answered 503 / SlowDown: the client's retries absorb them.
  [ "$backend" = hashmap ] && s3_faults '{"error_rate": 0.1, "slowdown_rate": 0.05}' >/dev/null
  "$CKPT" run "${JOB[@]}" --rate 2000 --output "$out" "${opts[@]}" >"$TMP/run-$backend" 2>&1 &
  pid=$!
  wait_for_s3_checkpoints "$ck/" 4 "$pid"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  s3_faults clear >/dev/null
  job=$(s3_ls "$ck/" | sed -n "1s|^ck-$backend/||; 1s|/.*||p")
  checks=$((checks + 1))
  [[ "$job" =~ ^[0-9a-f]{32}$ ]] || fail "$backend: no job prefix under $ck (got '$job')"
  layout_ok "$backend" "$ck" "$job"
  if [ "$backend" = rocksdb-incremental ]; then
    checks=$((checks + 1))
    s3_ls "$ck/$job/shared/" | grep -q . || fail "$backend: incremental checkpoints put nothing in shared/"
  fi
  before=$(s3_ls "$ck/$job/" | latest_metadata_key)
  claim=()
  # CLAIM, keeping one checkpoint: the restored run's first checkpoint subsumes the claimed one.
  [ "$backend" = rocksdb-incremental ] && claim=(--claim -D state.checkpoints.num-retained=1)
  # The job's prefix names its latest complete checkpoint; the rest of the input at full speed.
  expect_exit 0 -- "$CKPT" restore "$ck/$job" --rate 0 "${opts[@]}" "${claim[@]}"
  expect_out "restored +s3://$B/${before%/_metadata}"
  same_output "$backend, restored from s3://" "$out"
  checks=$((checks + 1))
  if [ "$backend" = rocksdb-incremental ]; then
    # CLAIM: the job owns the restored checkpoint and deleted it once newer ones subsumed it.
    [ -z "$(s3_ls "s3://$B/${before%_metadata}")" ] || fail "$backend: CLAIM left the claimed checkpoint's objects"
  else
    # NO_CLAIM: the restored checkpoint is the user's, untouched.
    s3_ls "s3://$B/$before" | grep -q . || fail "$backend: NO_CLAIM deleted the restored checkpoint"
  fi
  # The restored job's checkpoints validate; so do the old job's under NO_CLAIM. Under CLAIM the
  # old job's older checkpoints may share files with the claimed one, which the new job owned and
  # deleted (Flink's CLAIM semantics), so only the new job is checked there.
  for p in $(s3_ls "$ck/" | sed "s|^ck-$backend/||; s|/.*||" | sort -u); do
    [ "$p" = "$job" ] && [ "$backend" = rocksdb-incremental ] && continue
    validate_complete "$ck/$p"
  done
done

# --- savepoints into the store, restored from it --------------------------------------------
ck=s3://$B/ck-sp
export CKPT_RUNTIME_DIR=$TMP/runtime
"$CKPT" run "${JOB[@]}" --rate 300 --output "$TMP/out-sp" --stop-with-savepoint-on-sigterm \
  -D execution.checkpointing.interval=50ms -D "state.checkpoints.dir=$ck" -D "state.savepoints.dir=s3://$B/sp" \
  -D state.backend.type=rocksdb -D state.backend.incremental=true -D "state.backend.rocksdb.localdir=$TMP/rdb" \
  -D state.storage.fs.memory-threshold=1kb >"$TMP/run-sp" 2>&1 &
pid=$!
wait_for_s3_checkpoints "$ck/" 1 "$pid"
job=$(s3_ls "$ck/" | sed -n "1s|^ck-sp/||; 1s|/.*||p")
expect_exit 0 -- "$CKPT" savepoint --type native "$ck/$job" "s3://$B/sp-native"
native=$(cat "$TMP/out")
checks=$((checks + 1))
[[ "$native" =~ ^s3://$B/sp-native/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$ ]] || fail "savepoint printed '$native'"
kill -TERM "$pid"
wait "$pid" || fail "the job did not stop with a savepoint: $(tail -3 "$TMP/run-sp")"
stopped=$(sed -n 's/^savepoint *//p' "$TMP/run-sp" | tail -1)
checks=$((checks + 1))
[[ "$stopped" =~ ^s3://$B/sp/savepoint- ]] || fail "stop-with-savepoint wrote '$stopped', not into s3://$B/sp"
for sp in "$native" "$stopped"; do
  expect_exit 0 -- "$CKPT" validate "$sp"
  mkdir -p "$TMP/md-sp"
  s3_aws s3 cp --quiet "$sp/_metadata" "$TMP/md-sp/_metadata" || fail "download $sp/_metadata"
  oracle_roundtrip "$TMP/md-sp/_metadata"
done
# The job stopped at the savepoint: restoring it into the same output completes it exactly once.
expect_exit 0 -- "$CKPT" restore "$stopped" --rate 0 -D "state.checkpoints.dir=$ck"
same_output "stop-with-savepoint, restored from s3://" "$TMP/out-sp"
# A native savepoint (relative handles) restores the same from the store as from a local copy.
s3_aws s3 cp --recursive --quiet "$native" "$TMP/native-copy" || fail "download $native"
expect_exit 0 -- "$CKPT" restore "$native" --rate 0 --output "$TMP/restore-s3" -D state.backend.type=rocksdb \
  -D "state.backend.rocksdb.localdir=$TMP/rdb"
expect_exit 0 -- "$CKPT" restore "$TMP/native-copy" --rate 0 --output "$TMP/restore-local" -D state.backend.type=rocksdb \
  -D "state.backend.rocksdb.localdir=$TMP/rdb"
checks=$((checks + 1))
cmp -s <(sort "$TMP"/restore-s3/part-*) <(sort "$TMP"/restore-local/part-*) ||
  fail "restoring the native savepoint from s3:// commits other output than from a local copy"

# --- bad input: one line naming the object, exit 2, before the job starts -------------------
expect_exit 2 -- "$CKPT" run "${JOB[@]}" --output "$TMP/out-bad" -D execution.checkpointing.interval=50ms \
  -D "state.checkpoints.dir=s3://no-such-bucket/ck"
expect_err "s3://no-such-bucket/ck/.*NoSuchBucket"
expect_exit 2 -- "$CKPT" run "${JOB[@]}" --output "$TMP/out-bad" -D execution.checkpointing.interval=50ms \
  -D "state.checkpoints.dir=s3://$B/ck-bad" -D s3.access-key="$AWS_ACCESS_KEY_ID" -D s3.secret-key=wrong
expect_err "s3://$B/ck-bad/.*403 SignatureDoesNotMatch"
checks=$((checks + 1))
[ ! -e "$TMP/out-bad" ] || [ -z "$(ls -A "$TMP/out-bad")" ] || fail "a job that could not start committed output"
expect_exit 2 -- "$CKPT" restore "s3://$B/ck-hashmap/nosuch" --output "$TMP/out-bad"
expect_err "s3://$B/ck-hashmap/nosuch: no objects under this prefix"
expect_exit 2 -- "$CKPT" run "${JOB[@]}" --output "$TMP/out-bad" -D "state.checkpoints.dir=hdfs://nn/ck"
expect_err "hdfs://nn/ck"

finish
