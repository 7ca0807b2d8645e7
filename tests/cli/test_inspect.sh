#!/usr/bin/env bash
# ckpt inspect end to end: on snapshots the bundled pipeline writes (hashmap, RocksDB full and
# incremental, unaligned, savepoints), and on the real Flink fixtures when they are present.
source "$(dirname "$0")/lib.sh"

# --- the bundled pipeline's snapshots ----------------------------------------------------------
pipeline_snapshots
# expect_snapshot DIR KIND FORMAT BACKEND: summary, operator table and JSON of one snapshot.
expect_snapshot() {
  expect_exit 0 -- "$CKPT" inspect "$1"
  expect_out "^format +version 6 \(written by Flink 2.1\+\)"
  expect_out "^kind +$2 \($3\)"
  expect_out "^backend +$4\$"
  [ "$(grep -cE '^[0-9a-f]{32}  (source|counter|windows|sink) \(.*\) +2/128 +2/2 ' "$TMP/out")" = 4 ] ||
    fail "$1: expected the 4 operators by uid and name at 2/128 with 2 subtasks"
  expect_exit 0 -- "$CKPT" inspect --json --subtasks --files "$1"
  python3 - "$TMP/out" "$2" "$3" "$4" <<'PY' || fail "$1: inspect --json"
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
assert (s["version"], s["kind"], s["format"], s["backend"]) == (6, sys.argv[2].upper(), sys.argv[3], sys.argv[4]), s
assert sorted(o["uid"] for o in s["operators"]) == ["counter", "sink", "source", "windows"], s["operators"]
assert len(s["operators"]) == 4 and all(o["parallelism"] == 2 and o["maxParallelism"] == 128 for o in s["operators"])
# One row per reference; the summary counts files (channel state of several subpartitions shares one).
assert len(d["subtasks"]) == 8 and len({f["resolved"] for f in d["files"]}) == s["files"] > 0, (len(d["subtasks"]), s["files"])
keyed = [t for t in d["subtasks"] if t.get("hasKeyGroups")]
assert len(keyed) == 4 and sorted(t.get("keyGroupEnd") for t in keyed) == [63, 63, 127, 127], keyed
for f in d["files"]:
    assert f["form"] == "absolute" or f["resolved"].startswith(d["snapshot"]["directory"]), f
PY
}
expect_snapshot "$PL_HEAP" checkpoint native heap
expect_snapshot "$PL_UNALIGNED" checkpoint native heap
expect_snapshot "$PL_SP_HEAP" savepoint canonical heap
expect_snapshot "$PL_INCR" checkpoint native rocksdb-incremental
expect_snapshot "$PL_SP_NATIVE" savepoint native rocksdb-incremental
expect_snapshot "$PL_SP_CANONICAL" savepoint canonical heap   # canonical: key-groups, as the heap writes
expect_snapshot "$PL_ROCKS" checkpoint native rocksdb
# Files: incremental checkpoints put table files in the job's shared/, full ones in chk-N.
expect_exit 0 -- "$CKPT" inspect --files "$PL_INCR"
expect_out "/shared/[0-9a-f-]+ \[[0-9]+\.sst\] .* rocksdb-shared +shared"
expect_out "\[MANIFEST-[0-9]+\]"
expect_exit 0 -- "$CKPT" inspect --files "$PL_ROCKS"
expect_out "chk-[0-9]+/[0-9a-f-]+ \[[0-9]+\.sst\] .* rocksdb-private +exclusive +relative"
[ "$(grep -c 'rocksdb-shared' "$TMP/out")" = 0 ] || fail "a full RocksDB checkpoint references shared files"
expect_exit 0 -- "$CKPT" inspect --subtasks "$PL_ROCKS"
expect_out "KEY GROUPS"
expect_out " 0-63 .*rocksdb incremental/native \(tag 11\)"
expect_out " 64-127 .*rocksdb incremental/native \(tag 11\)"
expect_exit 0 -- "$CKPT" inspect --subtasks "$PL_HEAP"
expect_out " 64-127 .*key-groups \(tag 12\)"
# Unaligned: in-flight records are channel state (when one checkpoint caught them).
if [ "$PL_UNALIGNED_CHANNEL" = 1 ]; then
  expect_exit 0 -- "$CKPT" inspect --json "$PL_UNALIGNED"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert int(d["summary"]["bytes"]["channel"]) > 0' "$TMP/out" ||
    fail "unaligned checkpoint: no channel bytes in JSON"
else
  echo "note: no unaligned checkpoint caught records in flight: channel state not checked"
fi
# --operator selects one operator by id.
op=$("$CKPT" inspect --json "$PL_HEAP" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["operators"][1]["id"])')
expect_exit 0 -- "$CKPT" inspect --operator "$op" "$PL_HEAP"
expect_out "^$op "
[ "$(grep -cE '^[0-9a-f]{32}  ' "$TMP/out")" = 1 ] || fail "--operator $op shows other operators"
expect_exit 1 -- "$CKPT" inspect --operator 00000000000000000000000000000000 "$PL_HEAP"
# A job directory and a root list every complete snapshot, newest first.
expect_exit 0 -- "$CKPT" inspect "$(dirname "$PL_INCR")"
expect_out "^ +${PL_INCR##*chk-} +checkpoint \(native\) +6 "
expect_out "[0-9]+ snapshots, [0-9]+ incomplete"
expect_exit 0 -- "$CKPT" inspect --json "$TMP/pipeline"
python3 - "$TMP/out" "${PL_ALL[@]}" <<'PY' || fail "root JSON of the pipeline's snapshots"
import json, os, sys
d = json.load(open(sys.argv[1]))
listed = {os.path.realpath(s["directory"]) for s in d["snapshots"]}
assert not d.get("unreadable"), d.get("unreadable")
missing = [p for p in sys.argv[2:] if os.path.realpath(p) not in listed]
assert not missing, missing
PY
# A truncated pipeline checkpoint: one line naming the file and the byte offset, exit 2.
mkdir -p "$TMP/trunc/chk-3"
head -c 300 "$PL_INCR/_metadata" > "$TMP/trunc/chk-3/_metadata"
expect_exit 2 -- "$CKPT" inspect "$TMP/trunc/chk-3"
expect_err "chk-3/_metadata: byte [0-9]+: "
[ "$(wc -l < "$TMP/err")" -eq 1 ] || fail "error is not one line"

# --- the real Flink fixtures -------------------------------------------------------------------
if have_fixtures; then
  # Every snapshot under the fixtures is inspected in-process by the unit tests
  # (test_inspect.cpp); here a sample of each format version goes through the binary.
  for d in new-stateful-udf-migration-itcase-flink1.8-savepoint operatorstate-nonKeyed-flink1.2 \
           new-stateful-udf-migration-itcase-flink1.15-rocksdb-checkpoint \
           new-stateful-udf-migration-itcase-flink1.20-rocksdb-savepoint-native \
           new-stateful-udf-migration-itcase-flink2.0-rocksdb-checkpoint \
           new-stateful-udf-migration-itcase-flink2.3-hashmap-checkpoint; do
    expect_exit 0 -- "$CKPT" inspect "$FIXTURES/$d"
    expect_exit 0 -- "$CKPT" inspect --json --subtasks --files "$FIXTURES/$d"
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/out" || fail "invalid JSON for $d"
  done

  # Flink 1.2 single-file savepoints are inspected through the file itself.
  expect_exit 0 -- "$CKPT" inspect "$FIXTURES/stateful-udf-migration-itcase-flink1.2-savepoint-single-file/stateful-udf-migration-itcase-flink1.2-savepoint"
  expect_out "version 1 \(written by Flink 1.2\)"

  # Summary and operator table of a Flink 1.20 RocksDB checkpoint.
  d="$FIXTURES/new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint"
  expect_exit 0 -- "$CKPT" inspect "$d"
  expect_out "version 4 \(written by Flink 1.16-1.20\)"
  expect_out "kind +checkpoint"
  expect_out "backend +rocksdb"
  expect_exit 0 -- "$CKPT" inspect --files "$d"
  expect_out "rocksdb-private"
  expect_out "\[MANIFEST-[0-9]+\]"
  expect_exit 0 -- "$CKPT" inspect --subtasks "$d"
  expect_out "KEY GROUPS"

  # V5 files carry uids; --uid selects by uid.
  d="$FIXTURES/new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint"
  expect_exit 0 -- "$CKPT" inspect --json "$d"
  uid=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(o["uid"] for o in d["summary"]["operators"] if o.get("uid")))' "$TMP/out")
  expect_exit 0 -- "$CKPT" inspect --uid "$uid" "$d"
  expect_out "$uid"
  expect_exit 1 -- "$CKPT" inspect --uid no-such-uid "$d"
  expect_exit 2 -- "$CKPT" inspect --operator nothex "$d"

  # A root lists every snapshot, newest first. The fixtures hold one Flink 1.1 savepoint, which is
  # refused: the listing still shows everything, the refusal goes to stderr, and the exit code is 2.
  expect_exit 2 -- "$CKPT" inspect "$FIXTURES"
  expect_out "snapshots, 0 incomplete"
  expect_out "unreadable"
  expect_err "flink1.1-savepoint: byte 4: header: format version 0 is a Flink 1.1 savepoint"
  expect_exit 2 -- "$CKPT" inspect --json "$FIXTURES"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["snapshots"]) > 290 and len(d["unreadable"]) == 1' "$TMP/out" || fail "root JSON"

  # Bad input: one line naming file and byte offset, exit 2.
  mkdir -p "$TMP/bad/chk-3"
  head -c 100 "$FIXTURES/new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint/_metadata" > "$TMP/bad/chk-3/_metadata"
  expect_exit 2 -- "$CKPT" inspect "$TMP/bad/chk-3"
  expect_err "chk-3/_metadata: byte 20: operator count: operator count is 8 but only 76 bytes remain"
  [ "$(wc -l < "$TMP/err")" -eq 1 ] || fail "error is not one line"
  chmod 000 "$TMP/bad/chk-3/_metadata"
  if [ "$(id -u)" != 0 ]; then
    expect_exit 2 -- "$CKPT" inspect "$TMP/bad/chk-3"
    expect_err "Permission denied"
  fi
fi

# Bad input without any snapshot: not a _metadata, missing, incomplete; usage errors.
mkdir -p "$TMP/bad" "$TMP/incomplete/chk-9"
printf 'not flink' > "$TMP/bad/x"
expect_exit 2 -- "$CKPT" inspect "$TMP/bad/x"
expect_err "x: byte 0: header: magic number is 0x6E6F7420, expected 0x4960672D"
expect_exit 2 -- "$CKPT" inspect "$TMP/does-not-exist"
expect_err "does-not-exist: cannot access"
expect_exit 2 -- "$CKPT" inspect "$TMP/incomplete/chk-9"
expect_err "incomplete checkpoint"
expect_exit 2 -- "$CKPT" inspect
expect_exit 2 -- "$CKPT" inspect --no-such-flag x
expect_exit 0 -- "$CKPT" inspect --help
expect_out "--subtasks"

finish
