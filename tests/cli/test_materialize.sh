#!/usr/bin/env bash
# ckpt materialize end to end on real fixtures: Debian's ldb and sst_dump open the result
# (FRocksDB 6.20 and 8.10 databases), JSON, refusals, write safety, the input untouched.
source "$(dirname "$0")/lib.sh"
need_fixtures
if ! command -v ldb >/dev/null || ! command -v sst_dump >/dev/null; then
  echo "ldb / sst_dump (rocksdb-tools) not found: skipped"
  exit 77
fi

f120="$FIXTURES/new-stateful-udf-migration-itcase-flink1.20-rocksdb-savepoint-native"
f23="$FIXTURES/new-stateful-udf-migration-itcase-flink2.3-rocksdb-checkpoint"
canonical="$FIXTURES/new-stateful-udf-migration-itcase-flink1.20-rocksdb-savepoint"
heap="$FIXTURES/new-stateful-udf-migration-itcase-flink1.20-hashmap-checkpoint"
fingerprint() { (cd "$1" && find . -type f -exec sha1sum {} + | sort); }
before=$(fingerprint "$f120"; fingerprint "$f23")

# Flink 1.20 (FRocksDB 6.20): every column family lists and scans with plain ldb; sst_dump reads
# the directory. --copy: the fixtures' inodes stay untouched.
expect_exit 0 -- "$CKPT" materialize "$f120" --uid CheckpointingTimelyStatefulOperator1 --subtask 2 "$TMP/db120" --copy
expect_out "6 files .*6 copied"
expect_out "column families: default, _timer_state/processing_timer, _timer_state/event_timer, state-name"
expect_exit 0 -- ldb --db="$TMP/db120" list_column_families
expect_out "\{default, _timer_state/processing_timer, _timer_state/event_timer, state-name\}"
for cf in default _timer_state/processing_timer _timer_state/event_timer state-name; do
  expect_exit 0 -- ldb --db="$TMP/db120" --column_family="$cf" --hex scan
done
expect_out "^0x02"   # state-name: keys of key group 2 (prefix byte 0x02, spec §14.2)
expect_exit 0 -- sst_dump --file="$TMP/db120" --command=scan --output_hex
expect_out "=> "
expect_exit 0 -- sst_dump --file="$TMP/db120" --command=verify

# Flink 2.3 (FRocksDB 8.10): its OPTIONS has keys RocksDB 7.8 does not know; ldb needs
# --ignore_unknown_options (the man page says so), ckpt's check opens it anyway.
expect_exit 0 -- "$CKPT" materialize "$f23" --uid CheckpointingKeyedStateFlatMap1 --subtask 2 "$TMP/db23" --copy
expect_out "read it with: ldb --db=$TMP/db23 --ignore_unknown_options --column_family=state-name scan --hex"
expect_exit 1 -- ldb --db="$TMP/db23" --column_family=state-name scan
expect_err "compaction_verify_record_count"
expect_exit 0 -- ldb --db="$TMP/db23" --ignore_unknown_options --column_family=state-name --hex scan
[ "$(grep -c ' : ' "$TMP/out")" = 2 ] || fail "expected 2 entries in subtask 2's state-name, got: $(cat "$TMP/out")"

# Hard links by default, from a copy of a fixture (so the fixtures' link counts never change).
cp -r "$f120" "$TMP/sp"
expect_exit 0 -- "$CKPT" materialize "$TMP/sp/_metadata" --operator 4b818c7923a927796d24b727201ba34d --subtask 1 "$TMP/dbl"
expect_out "3 linked, 3 copied"
for f in "$TMP"/dbl/*.sst; do [ "$(stat -c %h "$f")" = 2 ] || fail "$f: not hard-linked"; done
[ "$(stat -c %h "$TMP/dbl/CURRENT")" = 1 ] || fail "CURRENT must be a copy"
# Writing to the database (a compaction through ldb) never reaches the snapshot's files.
sp_before=$(fingerprint "$TMP/sp")
expect_exit 0 -- ldb --db="$TMP/dbl" compact
[ "$(fingerprint "$TMP/sp")" = "$sp_before" ] || fail "ldb compact on a materialized database changed the snapshot"

# JSON: one document with the plan and what was done.
expect_exit 0 -- "$CKPT" materialize "$f120" --uid CheckpointingKeyedStateFlatMap1 --subtask 3 "$TMP/dbj" --copy --json
python3 - "$TMP/out" <<'PY' || fail "materialize --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["operatorId"] == "d5c8b168c6cbfe8c507a10f88b325243" and d["subtask"] == 3 and d["keyedTag"] == 11
assert sorted(f["name"] for f in d["files"]) == ["000010.sst", "CURRENT", "MANIFEST-000004", "OPTIONS-000009"], d["files"]
assert all(f["method"] == "copy" for f in d["files"])
assert d["columnFamilies"] == ["default", "state-name"] and d["copied"] == 4
assert d["keyGroupStart"] == 3 and d["keyGroupEnd"] == 3 and not d.get("dryRun")
PY

# --dry-run writes nothing; outputs are never overwritten without --force, never replaced when
# they hold anything but a database.
expect_exit 0 -- "$CKPT" materialize "$f120" --uid CheckpointingKeyedStateFlatMap1 --subtask 3 "$TMP/dry" --dry-run
expect_out "would materialize"
[ -e "$TMP/dry" ] && fail "--dry-run wrote $TMP/dry"
expect_exit 2 -- "$CKPT" materialize "$f120" --uid CheckpointingKeyedStateFlatMap1 --subtask 3 "$TMP/dbj" --copy
expect_err "is not empty \(use --force"
expect_exit 0 -- "$CKPT" materialize "$f120" --uid CheckpointingKeyedStateFlatMap1 --subtask 1 "$TMP/dbj" --copy --force
mkdir -p "$TMP/mine" && echo keep > "$TMP/mine/file"
expect_exit 2 -- "$CKPT" materialize "$f120" --uid CheckpointingKeyedStateFlatMap1 --subtask 1 "$TMP/mine" --force
expect_err "holds no RocksDB database"
[ "$(cat "$TMP/mine/file")" = keep ] || fail "--force touched a directory that was not a database"
expect_exit 2 -- "$CKPT" materialize "$TMP/sp" --uid CheckpointingKeyedStateFlatMap1 --subtask 1 "$TMP/sp/db"
expect_err "inside the input snapshot directory"
ls -a "$TMP" | grep -q '\.tmp$' && fail "temporary directories left behind: $(ls -a "$TMP")"

# State that is not a RocksDB database, and bad selections: exit 2 with the reason.
expect_exit 2 -- "$CKPT" materialize "$canonical" --uid CheckpointingKeyedStateFlatMap1 --subtask 1 "$TMP/x"
expect_err "cannot be materialized: its keyed state is a canonical savepoint \(keyed tag 7\)"
expect_exit 2 -- "$CKPT" materialize "$heap" --uid CheckpointingKeyedStateFlatMap1 --subtask 1 "$TMP/x"
expect_err "key-grouped full snapshot \(keyed tag 12\)"
expect_exit 2 -- "$CKPT" materialize "$f120" --uid nope --subtask 1 "$TMP/x"
expect_err "no operator with uid \"nope\".*operators: 1f2b5df5a66154aca61fcb26193792be"
expect_exit 2 -- "$CKPT" materialize "$f120" --uid CheckpointingKeyedStateFlatMap1 --subtask 9 "$TMP/x"
expect_err "no such subtask \(parallelism 4\)"
expect_exit 2 -- "$CKPT" materialize "$f120" --uid CheckpointingKeyedStateFlatMap1 --subtask 0 "$TMP/x"
expect_err "has no keyed state"
expect_exit 2 -- "$CKPT" materialize "$f120" --uid a --operator 4b818c7923a927796d24b727201ba34d --subtask 0 "$TMP/x"
expect_err "exactly one of --uid NAME or --operator ID"
[ -e "$TMP/x" ] && fail "a refused materialize wrote output"

# Every RocksDB subtask of a Flink 1.16 and a 2.1 fixture opens with ldb.
for fx in new-stateful-broadcast-udf-migration-itcase-flink1.16-rocksdb-savepoint-native \
          new-stateful-udf-migration-itcase-flink2.1-rocksdb-checkpoint; do
  while read -r op sub; do
    rm -rf "$TMP/each"
    "$CKPT" materialize "$FIXTURES/$fx" --operator "$op" --subtask "$sub" "$TMP/each" --copy >/dev/null 2>"$TMP/err" ||
      fail "$fx $op/$sub: $(cat "$TMP/err")"
    ldb --db="$TMP/each" --ignore_unknown_options list_column_families >/dev/null 2>&1 || fail "$fx $op/$sub: ldb"
    checks=$((checks + 1))
  done < <("$CKPT" convert "$FIXTURES/$fx" --to json | python3 -c '
import json, sys
for op in json.load(sys.stdin)["operators"]:
    for s in op.get("subtasks", []):
        if "incremental" in s.get("managedKeyed", {}):
            print(op["id"], s.get("index", 0))')
done

[ "$(fingerprint "$f120"; fingerprint "$f23")" = "$before" ] || fail "a fixture changed"
finish
