#!/usr/bin/env bash
# ckpt diff end to end: exit codes as diff(1), text, --stat and --json.
source "$(dirname "$0")/lib.sh"
need_fixtures

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
expect_exit 0 -- "$CKPT" diff --help
finish
