#!/usr/bin/env bash
# ckpt materialize end to end, on snapshots the bundled pipeline writes and on real fixtures (when
# present): Debian's ldb and sst_dump open the result (the pipeline's, FRocksDB 6.20 and 8.10
# databases), key groups, JSON, refusals, write safety, the input untouched.
source "$(dirname "$0")/lib.sh"
tools=1
if ! command -v ldb >/dev/null || ! command -v sst_dump >/dev/null; then
  echo "ldb / sst_dump (rocksdb-tools) not found: the checks that open the databases skipped"
  tools=0
fi

# --- the bundled pipeline's snapshots ----------------------------------------------------------
pipeline_snapshots
pl_fingerprint() { (cd "$TMP/pipeline" && find ck-* sp-* -type f -exec sha1sum {} + | sort); }
pl_before=$(pl_fingerprint)
counter=0da08f51eaa85fc298e176a139b3649a  # keyBy(word) -> counter: column family "count"
windows=dd3360f6b8ab0363c9992569bf1b7cca  # the windows: column family "window-contents"
# Every RocksDB subtask of an incremental checkpoint, a full checkpoint and a native savepoint:
# ldb opens it and scans only keys of the subtask's key groups (first key byte: the key group,
# maxParallelism 128); sst_dump verifies the tables.
for s in "$PL_INCR" "$PL_ROCKS" "$PL_SP_NATIVE"; do
  entries=0
  for op in $counter $windows; do
    if [ $op = $counter ]; then cf=count; else cf=window-contents; fi
    for sub in 0 1; do
      db=$TMP/pl-db-${s##*/}-$op-$sub
      expect_exit 0 -- "$CKPT" materialize "$s" --operator $op --subtask $sub "$db" --copy
      expect_out "^column families: default, $cf\$"
      [ "$tools" = 1 ] || continue
      expect_exit 0 -- ldb --db="$db" list_column_families
      expect_out "\{default, $cf\}"
      expect_exit 0 -- ldb --db="$db" --column_family="$cf" --hex scan
      entries=$((entries + $(grep -c ' : ' "$TMP/out")))
      checks=$((checks + 1))
      python3 - "$TMP/out" "$sub" <<'PY' || fail "$s $op/$sub: keys outside key groups of subtask $sub"
import sys
lo, hi = (0, 63) if sys.argv[2] == "0" else (64, 127)
for line in open(sys.argv[1]):
    if " : " in line:
        kg = int(line[2:4], 16)
        assert lo <= kg <= hi, line
PY
      expect_exit 0 -- sst_dump --file="$db" --command=verify
    done
  done
  checks=$((checks + 1))
  [ "$tools" = 0 ] || [ "$entries" -gt 0 ] || fail "$s: no entries in any materialized database"
done
# JSON: one document with the plan and what was done (a full checkpoint: files in chk-N).
expect_exit 0 -- "$CKPT" materialize "$PL_ROCKS" --operator $windows --subtask 1 "$TMP/pl-dbj" --copy --json
python3 - "$TMP/out" "$windows" <<'PY' || fail "materialize --json of a pipeline checkpoint"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["operatorId"] == sys.argv[2] and d["subtask"] == 1 and d["keyedTag"] == 11
assert d["keyGroupStart"] == 64 and d["keyGroupEnd"] == 127 and not d.get("dryRun")
names = [f["name"] for f in d["files"]]
assert "CURRENT" in names and any(n.startswith("MANIFEST-") for n in names) and any(n.startswith("OPTIONS-") for n in names), names
assert any(n.endswith(".sst") for n in names) and all(f["method"] in ("copy", "inline") for f in d["files"]), d["files"]
PY
# Hard links by default from a copy of the snapshot; writing to the database (a compaction
# through ldb) never reaches the snapshot's files.
cp -r "$PL_SP_NATIVE" "$TMP/pl-sp"
expect_exit 0 -- "$CKPT" materialize "$TMP/pl-sp" --operator $counter --subtask 0 "$TMP/pl-dbl"
expect_out "[1-9][0-9]* linked"
for f in "$TMP"/pl-dbl/*.sst; do [ "$(stat -c %h "$f")" = 2 ] || fail "$f: not hard-linked"; done
[ "$(stat -c %h "$TMP/pl-dbl/CURRENT")" = 1 ] || fail "CURRENT must be a copy"
if [ "$tools" = 1 ]; then
  sp_before=$(cd "$TMP/pl-sp" && find . -type f -exec sha1sum {} + | sort)
  expect_exit 0 -- ldb --db="$TMP/pl-dbl" compact
  [ "$(cd "$TMP/pl-sp" && find . -type f -exec sha1sum {} + | sort)" = "$sp_before" ] ||
    fail "ldb compact on a materialized database changed the snapshot"
fi
# --dry-run writes nothing; no overwrite without --force; refusals name the reason.
expect_exit 0 -- "$CKPT" materialize "$PL_INCR" --operator $counter --subtask 1 "$TMP/pl-dry" --dry-run
expect_out "would materialize"
[ -e "$TMP/pl-dry" ] && fail "--dry-run wrote $TMP/pl-dry"
expect_exit 2 -- "$CKPT" materialize "$PL_ROCKS" --operator $windows --subtask 1 "$TMP/pl-dbj" --copy
expect_err "is not empty \(use --force"
expect_exit 0 -- "$CKPT" materialize "$PL_ROCKS" --operator $windows --subtask 0 "$TMP/pl-dbj" --copy --force
expect_exit 2 -- "$CKPT" materialize "$PL_SP_CANONICAL" --operator $counter --subtask 1 "$TMP/pl-x"
expect_err "cannot be materialized: its keyed state is a canonical savepoint \(keyed tag 7\)"
expect_exit 2 -- "$CKPT" materialize "$PL_HEAP" --operator $counter --subtask 1 "$TMP/pl-x"
expect_err "key-grouped full snapshot \(keyed tag 12\)"
expect_exit 2 -- "$CKPT" materialize "$PL_INCR" --operator $counter --subtask 2 "$TMP/pl-x"
expect_err "no such subtask \(parallelism 2\)"
expect_exit 2 -- "$CKPT" materialize "$PL_INCR" --operator e5a72f353fc1e6bbf3bd96a41384998c --subtask 0 "$TMP/pl-x"
expect_err "has no keyed state"
expect_exit 2 -- "$CKPT" materialize "$TMP/pl-sp" --operator $counter --subtask 1 "$TMP/pl-sp/db"
expect_err "inside the input snapshot directory"
[ -e "$TMP/pl-x" ] && fail "a refused materialize wrote output"
checks=$((checks + 1))
[ "$(pl_fingerprint)" = "$pl_before" ] || fail "materialize changed a file of its input"

# --- the real Flink fixtures (they need ldb and sst_dump throughout) --------------------------
[ "$tools" = 1 ] || { finish; exit; }
if have_fixtures; then

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
fi
finish
