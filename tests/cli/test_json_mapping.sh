#!/usr/bin/env bash
# The --json contract of formats/json-mapping.md, for EVERY command that has --json, on snapshots
# the bundled pipeline makes: stdout is one document of the message the mapping names, every field
# without presence is present (defaults included), every value has the JSON type of its schema
# type (64-bit integers are numbers), no field outside the schema appears
# (json_schema_check.py); and under --json an error is one ErrorReport object on stderr with the
# exit code of text mode.
source "$(dirname "$0")/lib.sh"
FORMATS="$(cd "$(dirname "$0")/../../formats" && pwd)"

# conforms MESSAGE FILE: the document in FILE is a MESSAGE as the mapping prints it.
conforms() {
  checks=$((checks + 1))
  python3 "$(dirname "$0")/json_schema_check.py" "$FORMATS" "$1" "$2" >"$TMP/schema.err" ||
    fail "$1 ($3): $(head -5 "$TMP/schema.err" | tr '\n' ' ')"
}
# json_error EXIT KIND: stderr is exactly one ErrorReport line with that kind and exit code.
json_error() {
  checks=$((checks + 1))
  python3 - "$TMP/err" "$1" "$2" <<'PY' || fail "error object ($3): $(head -c 300 "$TMP/err")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
e = json.loads(lines[0])
assert list(e) == ["error"], e
assert e["error"]["exitCode"] == int(sys.argv[2]), e
assert e["error"]["kind"] == sys.argv[3], e
assert e["error"]["command"].startswith("ckpt ") and e["error"]["message"], e
PY
  conforms ErrorReport "$TMP/errjson" "$3"
}
run_err() { # like expect_exit, and copies stderr for conforms
  expect_exit "$@"
  cp "$TMP/err" "$TMP/errjson"
}

pipeline_snapshots

# --- inspect ---------------------------------------------------------------------------------
for s in "${PL_ALL[@]}"; do
  expect_exit 0 -- "$CKPT" inspect --json --subtasks --files "$s"
  conforms InspectReport "$TMP/out" "inspect $s"
done
expect_exit 0 -- "$CKPT" inspect --json "$TMP/pipeline/ck-incr"
conforms SnapshotList "$TMP/out" "inspect of a root"
mkdir -p "$TMP/empty"
expect_exit 0 -- "$CKPT" inspect --json "$TMP/empty"
expect_out '^\{"snapshots":\[\],"unreadable":\[\],"incomplete":\[\]\}$'
expect_exit 0 -- "$CKPT" inspect --json "$PL_HEAP"
checks=$((checks + 1))
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); o=d["summary"]["operators"][0]
assert o["index"] == 0 and isinstance(d["summary"]["checkpointId"], int) and isinstance(d["summary"]["bytes"]["total"], int)' \
  "$TMP/out" || fail "inspect --json: index 0 printed, ids and byte counts are numbers"
run_err 1 -- "$CKPT" inspect --json --uid nosuch "$PL_HEAP"
json_error 1 PROBLEMS "inspect --uid nosuch"
expect_exit 1 -- "$CKPT" inspect --uid nosuch "$PL_HEAP"
expect_err "no operator matches uid nosuch"

# --- validate, diff ----------------------------------------------------------------------------
expect_exit 0 -- "$CKPT" validate --json "$PL_INCR"
conforms ValidateReport "$TMP/out" "validate"
expect_exit 0 -- "$CKPT" validate --json --list-rules
conforms ValidateRuleList "$TMP/out" "validate --list-rules"
expect_exit 1 -- "$CKPT" diff --json "$PL_INCR_OLDER" "$PL_INCR"
conforms DiffReport "$TMP/out" "diff"
expect_exit 0 -- "$CKPT" diff --json "$PL_INCR" "$PL_INCR"
conforms DiffReport "$TMP/out" "diff of equal snapshots"

# --- prune, gc ---------------------------------------------------------------------------------
cp -a "$TMP/pipeline/ck-incr" "$TMP/root"
expect_exit 0 -- "$CKPT" prune "$TMP/root" --retain 1 --dry-run --json --grace 0
conforms PrunePlan "$TMP/out" "prune --dry-run"
expect_exit 0 -- "$CKPT" gc "$TMP/root" --dry-run --json --grace 0
conforms PrunePlan "$TMP/out" "gc --dry-run"
expect_exit 0 -- "$CKPT" prune "$TMP/root" --retain 1 --json --grace 0
conforms PrunePlan "$TMP/out" "prune"
run_err 2 -- "$CKPT" prune "$TMP/root" --json
json_error 2 USAGE "prune without a policy"

# --- convert, pack, unpack, compact, materialize -----------------------------------------------
expect_exit 0 -- "$CKPT" convert "$PL_INCR" --self-contained "$TMP/sc" --json
conforms WriteReport "$TMP/out" "convert --self-contained"
expect_exit 0 -- "$CKPT" pack "$PL_INCR" "$TMP/p.ckpt" --json
conforms WriteReport "$TMP/out" "pack"
expect_exit 0 -- "$CKPT" unpack "$TMP/p.ckpt" "$TMP/u" --json
conforms WriteReport "$TMP/out" "unpack"
expect_exit 0 -- "$CKPT" compact "$PL_INCR" -o "$TMP/c" --json
conforms CompactReport "$TMP/out" "compact"
expect_exit 0 -- "$CKPT" compact "$PL_INCR" -o "$TMP/cd" --dry-run --json
conforms CompactReport "$TMP/out" "compact --dry-run"
op=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["subtasks"][0]["operatorId"], d["subtasks"][0]["subtask"])' "$TMP/out")
expect_exit 0 -- "$CKPT" materialize "$PL_INCR" --operator "${op% *}" --subtask "${op#* }" "$TMP/m" --copy --json
conforms MaterializeReport "$TMP/out" "materialize"

# --- run, restore, savepoint -------------------------------------------------------------------
JOB=(--generate 20000 --vocabulary 200 --window 1s --events-per-second 20000 --seed 3 -p 2)
expect_exit 0 -- "$CKPT" run "${JOB[@]}" --output "$TMP/o1" -D execution.checkpointing.interval=30ms \
  -D "state.checkpoints.dir=$TMP/ck1" --keep-checkpoints --json
conforms RunReport "$TMP/out" "run"
checks=$((checks + 1))
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"] == "FINISHED" and isinstance(d["records"], int)' \
  "$TMP/out" || fail "run --json: status and records"
from=$(latest_checkpoint "$TMP/ck1")
expect_exit 0 -- "$CKPT" restore "$from" --output "$TMP/o2" -D "state.checkpoints.dir=$TMP/ck2" --json
conforms RunReport "$TMP/out" "restore"
# (a job id of its own: tests that savepoint a running job by id run at the same time)
"$CKPT" run --generate 400000 --vocabulary 200 --window 1s --events-per-second 20000 --seed 3 -p 2 --rate 20000 --output "$TMP/o3" --job-id 2123456789abcdef0123456789abcdef \
  -D execution.checkpointing.interval=30ms -D "state.checkpoints.dir=$TMP/ck3" -D "state.savepoints.dir=$TMP/sp3" \
  --json >"$TMP/run3" 2>"$TMP/run3.err" &
pid=$!
wait_for_checkpoints "$TMP/ck3" 1 $pid
expect_exit 0 -- "$CKPT" savepoint "$TMP/ck3/2123456789abcdef0123456789abcdef" "$TMP/sp3b" --stop --json
conforms SavepointReport "$TMP/out" "savepoint"
wait $pid || fail "the job did not stop with the savepoint: $(tail -3 "$TMP/run3.err")"
conforms RunReport "$TMP/run3" "run stopped with a savepoint"
checks=$((checks + 1))
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"] == "FINISHED" and d["stoppedWithSavepoint"] is True, d["status"]' \
  "$TMP/run3" || fail "run --json stopped with a savepoint: status FINISHED, stoppedWithSavepoint true"

# --- every command: a usage error is one ErrorReport on stderr, exit 2 --------------------------
for c in inspect validate diff prune gc convert pack unpack compact materialize run restore savepoint; do
  run_err 2 -- "$CKPT" "$c" --json --no-such-flag
  json_error 2 USAGE "$c --no-such-flag"
done
run_err 2 -- "$CKPT" inspect --json /nonexistent/path
json_error 2 IO "inspect of a missing path"

finish
