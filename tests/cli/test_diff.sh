#!/usr/bin/env bash
# ckpt diff end to end: exit codes as diff(1), text, --stat and --json; on snapshots the bundled
# pipeline writes and on the real Flink fixtures (when present).
source "$(dirname "$0")/lib.sh"

# --- the bundled pipeline's snapshots ----------------------------------------------------------
pipeline_snapshots
# Every snapshot equals itself (text and JSON), and its JSON export.
for s in "${PL_ALL[@]}"; do
  expect_exit 0 -- "$CKPT" diff "$s" "$s"
  expect_out "^equal"
  expect_exit 0 -- "$CKPT" diff --json "$s/_metadata" "$s"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["equal"] is True' "$TMP/out" || fail "$s: diff json equal"
  rm -f "$TMP/pl.json"
  "$CKPT" convert "$s" --to json -o "$TMP/pl.json" >/dev/null
  expect_exit 0 -- "$CKPT" diff "$s" "$TMP/pl.json"
done
# Two checkpoints of one running job: same operators, other checkpoint id, state and files.
expect_exit 1 -- "$CKPT" diff "$PL_INCR_OLDER" "$PL_INCR"
expect_out "^checkpoint id +${PL_INCR_OLDER##*chk-} +${PL_INCR##*chk-}\$"
expect_out "^files"
expect_out "^rocksdb sst files"
expect_exit 1 -- "$CKPT" diff --stat "$PL_INCR_OLDER" "$PL_INCR"
expect_out "^operators +0 added, 0 removed"
expect_out "^different"
expect_exit 1 -- "$CKPT" diff --json "$PL_INCR_OLDER" "$PL_INCR"
python3 - "$TMP/out" "${PL_INCR_OLDER##*chk-}" "${PL_INCR##*chk-}" <<'PY' || fail "diff --json of two checkpoints"
import json, sys
d = json.load(open(sys.argv[1]))
assert not d.get("equal", False)
assert {"field": "checkpoint id", "a": sys.argv[2], "b": sys.argv[3]} in d["properties"], d["properties"]
assert int(d["files"]["droppedCount"]) > 0
PY
expect_exit 1 -- "$CKPT" diff "$PL_HEAP_OLDER" "$PL_HEAP"
# The same job's operators on another backend; a native and a canonical savepoint of one job.
expect_exit 1 -- "$CKPT" diff --stat "$PL_HEAP" "$PL_ROCKS"
expect_out "^operators +0 added, 0 removed"
expect_exit 1 -- "$CKPT" diff "$PL_SP_NATIVE" "$PL_SP_CANONICAL"
expect_out "^properties"
# A moved copy of the hashmap checkpoint (relative handles) equals the original.
cp -r "$PL_HEAP" "$TMP/pl-copy"
expect_exit 0 -- "$CKPT" diff "$PL_HEAP" "$TMP/pl-copy"
expect_exit 2 -- "$CKPT" diff "$PL_HEAP" "$TMP/missing"
expect_err "cannot access"

# --- the real Flink fixtures -------------------------------------------------------------------
if have_fixtures; then
  rocks="$FIXTURES/new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint"
  heap="$FIXTURES/new-stateful-udf-migration-itcase-flink1.20-hashmap-checkpoint"
  expect_exit 0 -- "$CKPT" diff "$rocks" "$rocks"
  expect_out "^equal"
  expect_exit 0 -- "$CKPT" diff "$rocks/_metadata" "$rocks"
  expect_exit 1 -- "$CKPT" diff "$rocks" "$heap"
  expect_out "^files"
  expect_out "dropped from a"
  expect_out "rocksdb sst files"
  expect_exit 1 -- "$CKPT" diff --stat "$rocks" "$heap"
  expect_out "^operators +0 added, 0 removed"
  expect_out "^different"
  expect_exit 1 -- "$CKPT" diff --json "$rocks" "$heap"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert not d.get("equal", False); assert int(d["files"]["droppedCount"]) > 0' "$TMP/out" || fail "diff json"
  expect_exit 0 -- "$CKPT" diff --json "$rocks" "$rocks"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["equal"] is True' "$TMP/out" || fail "diff json equal"

  # A JSON export compares equal to its snapshot; a moved copy too.
  "$CKPT" convert "$rocks" --to json -o "$TMP/r.json" >/dev/null
  expect_exit 0 -- "$CKPT" diff "$rocks" "$TMP/r.json"
  cp -r "$rocks" "$TMP/copy"
  expect_exit 0 -- "$CKPT" diff "$rocks" "$TMP/copy"

  # Operators added / removed and properties: a savepoint of another job.
  sp="$FIXTURES/new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint"
  expect_exit 1 -- "$CKPT" diff "$rocks" "$sp"
  expect_out "^properties"
  expect_out "version +4 +5"

  expect_exit 2 -- "$CKPT" diff "$rocks" "$TMP/missing"
  expect_err "cannot access"
  expect_exit 2 -- "$CKPT" diff "$rocks"
fi

expect_exit 2 -- "$CKPT" diff "$PL_HEAP"
expect_exit 0 -- "$CKPT" diff --help
finish
