#!/usr/bin/env bash
# ckpt inspect end to end, on the real Flink fixtures.
source "$(dirname "$0")/lib.sh"
need_fixtures

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
mkdir -p "$TMP/bad/chk-3" "$TMP/incomplete/chk-9"
head -c 100 "$FIXTURES/new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint/_metadata" > "$TMP/bad/chk-3/_metadata"
expect_exit 2 -- "$CKPT" inspect "$TMP/bad/chk-3"
expect_err "chk-3/_metadata: byte 20: operator count: operator count is 8 but only 76 bytes remain"
[ "$(wc -l < "$TMP/err")" -eq 1 ] || fail "error is not one line"
printf 'not flink' > "$TMP/bad/x"
expect_exit 2 -- "$CKPT" inspect "$TMP/bad/x"
expect_err "x: byte 0: header: magic number is 0x6E6F7420, expected 0x4960672D"
expect_exit 2 -- "$CKPT" inspect "$TMP/does-not-exist"
expect_err "does-not-exist: cannot access"
expect_exit 2 -- "$CKPT" inspect "$TMP/incomplete/chk-9"
expect_err "incomplete checkpoint"
chmod 000 "$TMP/bad/chk-3/_metadata"
if [ "$(id -u)" != 0 ]; then
  expect_exit 2 -- "$CKPT" inspect "$TMP/bad/chk-3"
  expect_err "Permission denied"
fi
expect_exit 2 -- "$CKPT" inspect
expect_exit 2 -- "$CKPT" inspect --no-such-flag x
expect_exit 0 -- "$CKPT" inspect --help
expect_out "--subtasks"

finish
