# Helpers for the CLI end-to-end tests. Each test script gets the ckpt binary and the fixture
# directory as $1 and $2, and exits 0 (pass), 77 (skipped: fixtures absent) or 1 (fail).
set -uo pipefail
CKPT=$1
FIXTURES=$2
failures=0
checks=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

need_fixtures() {
  if [ ! -d "$FIXTURES" ]; then
    echo "fixtures not found at $FIXTURES: skipped"
    exit 77
  fi
}

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect_exit CODE -- command...: runs the command, checks its exit code; output in $TMP/out, $TMP/err.
expect_exit() {
  local want=$1
  shift 2
  checks=$((checks + 1))
  "$@" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  if [ "$got" != "$want" ]; then
    fail "exit $got (expected $want): $*"
    sed 's/^/  stderr: /' "$TMP/err" | head -5 >&2
  fi
}

# check_eq WHAT GOT WANT / check_ge WHAT GOT MIN: one check of a value.
check_eq() {
  checks=$((checks + 1))
  [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}
check_ge() {
  checks=$((checks + 1))
  [ "$2" -ge "$3" ] 2>/dev/null || fail "$1: got '$2', expected at least $3"
}

expect_out() {
  checks=$((checks + 1))
  grep -qE -- "$1" "$TMP/out" || fail "stdout lacks /$1/"
}

expect_err() {
  checks=$((checks + 1))
  grep -qE -- "$1" "$TMP/err" || fail "stderr lacks /$1/"
}

# oracle_roundtrip FILE...: Flink's own loader reads each `_metadata` and Flink's writer rewrites it
# to the same bytes; oracle_read FILE...: Flink's loader reads it (for files made by test
# generators whose encodings Flink would write differently). The tool is
# ../shared/tools/flink-oracle beside the fixtures; a note, not a pass, when it or java is absent.
ORACLE=${CKPT_ORACLE:-$FIXTURES/../../tools/flink-oracle/flink-oracle}
oracle() {
  local mode=$1 f out
  shift
  if [ ! -x "$ORACLE" ] || ! command -v java >/dev/null 2>&1; then
    echo "note: flink-oracle or java not found: Flink's own check of $# file(s) not run" >&2
    return 0
  fi
  for f in "$@"; do
    checks=$((checks + 1))
    out=$("$ORACLE" "$mode" "$f" 2>&1 | tail -2) || fail "flink-oracle $mode $f: $out"
  done
}
oracle_roundtrip() { oracle roundtrip "$@"; }
oracle_read() { oracle read "$@"; }

finish() {
  echo "$((checks - failures)) passed, $failures failed"
  [ "$failures" -eq 0 ]
}

# latest_checkpoint DIR: the complete checkpoint (chk-N with _metadata) with the highest id under
# DIR/<job>/ (ids continue across restores, so the highest id is the latest); empty if none.
latest_checkpoint() {
  local best="" best_n=-1 m n
  for m in "$1"/*/chk-*/_metadata; do
    [ -f "$m" ] || continue
    n=${m%/_metadata}
    n=${n##*/chk-}
    if [ "$n" -gt "$best_n" ]; then best_n=$n; best=${m%/_metadata}; fi
  done
  echo "$best"
}

# wait_for_checkpoints DIR N PID: waits (at most 60 s) until N checkpoints have completed under
# DIR since the call, or until process PID has ended. Tests wait for events, never for wall time,
# so that they hold on a loaded machine.
wait_for_checkpoints() {
  local dir=$1 want=$2 pid=$3 start now i
  start=$(latest_checkpoint "$dir"); start=${start##*/chk-}; start=${start:-0}
  for ((i = 0; i < 3000; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    now=$(latest_checkpoint "$dir"); now=${now##*/chk-}; now=${now:-0}
    [ "$now" -ge $((start + want)) ] && return 0
    sleep 0.02
  done
  fail "no $want checkpoints under $dir within 60 s"
}

# --- crafted snapshots (a corrupt or hostile `_metadata`, made from a real one) ---------------

# craft EXPORT OUT MODE ARG (python3): rewrites the first matching handle of a `convert --to json` export.
#   relative-to-absolute PATH   the first relative file handle becomes file:PATH with size -1
#   shared-to DIR               the first shared file of every RocksDB handle is copied into DIR
#                               (same name and size) and the handle names the copy
#   size N                      the first file handle records N bytes
craft() {
  python3 - "$@" <<'PY'
import json, os, shutil, sys
src, dst, mode, arg = sys.argv[1:5]
d = json.load(open(src))
done = []
def walk(o):
    if isinstance(o, dict):
        for k, v in list(o.items()):
            if mode == "relative-to-absolute" and k == "relativeFile" and not done:
                del o[k]
                o["file"] = {"path": "file:" + arg, "size": "-1"}
                done.append(1)
                return
            if mode == "shared-to" and k == "sharedFiles" and isinstance(v, list) and v:
                h = v[0]["handle"]["file"]
                old = h["path"][len("file:"):]
                new = os.path.join(arg, os.path.basename(old))
                shutil.copyfile(old, new)
                h["path"] = "file:" + new
                done.append(1)
            if mode == "size" and k in ("file", "relativeFile") and isinstance(v, dict) and "size" in v and not done:
                v["size"] = arg
                done.append(1)
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(d)
assert done, "nothing to craft"
json.dump(d, open(dst, "w"))
PY
}

# write_crafted SNAPSHOT DIR MODE ARG: DIR/_metadata = SNAPSHOT's model crafted, beside hard links
# of SNAPSHOT's own files (a sibling chk-N, so that relative handles still resolve).
write_crafted() {
  local snap=$1 dir=$2 f
  [ -d "$snap" ] || { fail "write_crafted: $snap is not a snapshot directory"; return 1; }
  mkdir -p "$dir"
  "$CKPT" convert "$snap" --to json >"$TMP/export.json" || fail "export $snap"
  craft "$TMP/export.json" "$TMP/crafted.json" "$3" "$4" || fail "craft $3"
  "$CKPT" convert "$TMP/crafted.json" --from json --to flink -o "$dir/_metadata" --keep-relative >/dev/null ||
    fail "write crafted $dir"
  for f in "$snap"/*; do [ "$(basename "$f")" = _metadata ] || ln "$f" "$dir/"; done
}
# have_fixtures: true when the real Flink fixtures are present; otherwise says so (the sections
# over them are guarded with it, the rest of a script runs on a clean clone too).
have_fixtures() {
  [ -d "$FIXTURES" ] && return 0
  echo "fixtures not found at $FIXTURES: the checks over them skipped"
  return 1
}

# pipeline_snapshots: makes a set of snapshots with the bundled pipeline (small inputs, P=2),
# under $TMP/pipeline, for the commands' tests on a clean clone, and sets:
#   PL_HEAP, PL_HEAP_OLDER  hashmap backend, aligned, full: the latest and an older checkpoint of a job
#   PL_SP_HEAP              that job's savepoint, taken on SIGTERM (--stop-with-savepoint-on-sigterm)
#   PL_INCR, PL_INCR_OLDER  RocksDB incremental: the latest and an older checkpoint (files in shared/)
#   PL_SP_NATIVE            that job's native savepoint (ckpt savepoint --type native: RocksDB files)
#   PL_SP_CANONICAL         that job's canonical savepoint (ckpt savepoint --stop)
#   PL_ROCKS                RocksDB full (non-incremental) checkpoint of a job killed with -9
#   PL_UNALIGNED            unaligned checkpoint (hashmap); PL_UNALIGNED_CHANNEL=1 when it holds
#                           in-flight channel state (nearly always: the job runs at full speed)
#   PL_ALL                  all of them; PL_ROCKS_OPTS: the -D options that restore RocksDB state
# Every _metadata goes through Flink's loader and writer (oracle_roundtrip). When a snapshot could
# not be made, the script fails there (exit 1).
pipeline_abort() {
  fail "pipeline: $1"
  [ -n "${2:-}" ] && [ -r "$2" ] && sed 's/^/  /' "$2" | tail -20 >&2
  finish
  exit 1
}
pipeline_snapshots() {
  local d=$TMP/pipeline pid job sp
  local job_opts=(--vocabulary 2000 --window 1s --events-per-second 20000 --seed 13 -p 2)
  local keep=(-D execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION --keep-checkpoints
              -D state.storage.fs.memory-threshold=1kb -D state.checkpoints.num-retained=3)
  # RocksDB's working directories outside $d: a killed job leaves its own behind (with chk-N
  # staging directories that a root listing would show as incomplete checkpoints).
  PL_ROCKS_OPTS=(-D state.backend.type=rocksdb -D "state.backend.rocksdb.localdir=$TMP/rocksdb-local")
  mkdir -p "$d"

  # hashmap, aligned; stopped with a savepoint on SIGTERM.
  CKPT_RUNTIME_DIR=$d/runtime "$CKPT" run --generate 100000 --rate 20000 "${job_opts[@]}" --output "$d/out-heap" --stop-with-savepoint-on-sigterm \
    -D execution.checkpointing.interval=30ms -D "state.checkpoints.dir=$d/ck-heap" -D "state.savepoints.dir=$d/sp-heap" \
    "${keep[@]}" >"$d/run-heap" 2>&1 &
  pid=$!
  wait_for_checkpoints "$d/ck-heap" 3 "$pid"
  kill -TERM "$pid"
  wait "$pid" || pipeline_abort "the hashmap job did not stop with a savepoint" "$d/run-heap"
  PL_SP_HEAP=$(sed -n 's/^savepoint *//p' "$d/run-heap" | tail -1)
  PL_HEAP=$(latest_checkpoint "$d/ck-heap")
  PL_HEAP_OLDER=$(ls -d "$(dirname "$PL_HEAP")"/chk-*/_metadata | sed 's|/_metadata$||' | grep -vx "$PL_HEAP" | head -1)

  # RocksDB incremental: a native savepoint while it runs, then a canonical one that stops it.
  CKPT_RUNTIME_DIR=$d/runtime "$CKPT" run --generate 100000 --rate 20000 "${job_opts[@]}" --output "$d/out-incr" \
    -D execution.checkpointing.interval=30ms -D "state.checkpoints.dir=$d/ck-incr" -D "state.savepoints.dir=$d/sp-incr" \
    "${PL_ROCKS_OPTS[@]}" -D state.backend.incremental=true "${keep[@]}" >"$d/run-incr" 2>&1 &
  pid=$!
  wait_for_checkpoints "$d/ck-incr" 4 "$pid"
  job=$(ls -d "$d"/ck-incr/*/ | head -1)
  PL_SP_NATIVE=$(CKPT_RUNTIME_DIR=$d/runtime "$CKPT" savepoint --type native "$job" 2>>"$d/run-incr")
  PL_SP_CANONICAL=$(CKPT_RUNTIME_DIR=$d/runtime "$CKPT" savepoint --stop "$job" 2>>"$d/run-incr")
  wait "$pid" || pipeline_abort "the RocksDB incremental job did not stop with a savepoint" "$d/run-incr"
  PL_INCR=$(latest_checkpoint "$d/ck-incr")
  PL_INCR_OLDER=$(ls -d "$(dirname "$PL_INCR")"/chk-*/_metadata | sed 's|/_metadata$||' | grep -vx "$PL_INCR" | head -1)

  # RocksDB full checkpoints of a job that then crashes (kill -9: its retained checkpoints stay).
  "$CKPT" run --generate 100000 --rate 20000 "${job_opts[@]}" --output "$d/out-rocks" \
    -D execution.checkpointing.interval=30ms -D "state.checkpoints.dir=$d/ck-rocks" \
    "${PL_ROCKS_OPTS[@]}" -D state.backend.incremental=false "${keep[@]}" >"$d/run-rocks" 2>&1 &
  pid=$!
  wait_for_checkpoints "$d/ck-rocks" 3 "$pid"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  PL_ROCKS=$(latest_checkpoint "$d/ck-rocks")

  # Unaligned checkpoints every 10 ms at full speed (no --rate): some are taken with records in
  # flight (in 10 of 10 tries).
  "$CKPT" run --generate 100000 "${job_opts[@]}" --output "$d/out-unaligned" \
    -D execution.checkpointing.interval=10ms -D execution.checkpointing.unaligned.enabled=true \
    -D "state.checkpoints.dir=$d/ck-unaligned" "${keep[@]}" -D state.checkpoints.num-retained=50 >"$d/run-unaligned" 2>&1 ||
    pipeline_abort "the unaligned job failed" "$d/run-unaligned"
  PL_UNALIGNED=$(latest_checkpoint "$d/ck-unaligned")
  PL_UNALIGNED_CHANNEL=0
  for job in "$d"/ck-unaligned/*/chk-*; do
    [ -f "$job/_metadata" ] || continue
    if "$CKPT" inspect "$job" | grep -qE "channel [1-9]"; then PL_UNALIGNED=$job; PL_UNALIGNED_CHANNEL=1; break; fi
  done

  PL_ALL=("$PL_HEAP" "$PL_HEAP_OLDER" "$PL_SP_HEAP" "$PL_INCR" "$PL_INCR_OLDER" "$PL_SP_NATIVE" "$PL_SP_CANONICAL"
          "$PL_ROCKS" "$PL_UNALIGNED")
  for sp in "${PL_ALL[@]}"; do
    checks=$((checks + 1))
    [ -n "$sp" ] && [ -f "$sp/_metadata" ] || pipeline_abort "a snapshot is missing ('$sp'); the jobs' output:" <(tail -q -n 5 "$d"/run-*)
  done
  echo "pipeline snapshots: ${PL_ALL[*]#$d/} (unaligned with channel state: $PL_UNALIGNED_CHANNEL)"
  oracle_roundtrip "${PL_ALL[@]/%//_metadata}"
}

# restores_same LABEL A B [-D ...]: restores snapshot A and snapshot B (P=2) into fresh output
# directories; both runs must finish, commit output, and commit the same lines (B holds the same
# state as A, e.g. a compacted or converted copy).
restores_same() {
  local label=$1 a=$2 b=$3 n=$((++RESTORE_N))
  shift 3
  # --rate 0: the rest of the input at full speed (a restore keeps the job's --rate otherwise).
  expect_exit 0 -- "$CKPT" restore "$a" -p 2 --rate 0 --output "$TMP/restore-$n-a" -D "state.checkpoints.dir=$TMP/restore-$n-ck" "$@"
  expect_exit 0 -- "$CKPT" restore "$b" -p 2 --rate 0 --output "$TMP/restore-$n-b" -D "state.checkpoints.dir=$TMP/restore-$n-ck" "$@"
  checks=$((checks + 1))
  if ! ls "$TMP/restore-$n-a"/part-* >/dev/null 2>&1; then
    fail "$label: the restore of $a committed no output"
  elif ! cmp -s <(sort "$TMP/restore-$n-a"/part-*) <(sort "$TMP/restore-$n-b"/part-* 2>/dev/null); then
    fail "$label: restoring $b commits other output than restoring $a"
  fi
}
RESTORE_N=0
