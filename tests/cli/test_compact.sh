#!/usr/bin/env bash
# ckpt compact end to end, on snapshots the bundled pipeline writes and on real fixtures (when
# present): the output validates (--deep), inspects as a native savepoint, Flink rewrites its
# _metadata byte for byte, it restores to the same state, holds the same entries (read back with
# ldb), JSON and --dry-run, refusals, and a run killed at random points leaves either nothing or
# a complete output.
source "$(dirname "$0")/lib.sh"

# --- the bundled pipeline's snapshots ----------------------------------------------------------
pipeline_snapshots
# The snapshots' files (not the jobs' output directories: a restore commits the pending part files
# a snapshot names there).
pl_fingerprint() { (cd "$TMP/pipeline" && find ck-* sp-* -type f -exec sha1sum {} + | sort); }
pl_before=$(pl_fingerprint)
# RocksDB incremental checkpoint, full checkpoint and native savepoint: compacted, verified, valid,
# a relocatable native savepoint that restores to the same output as the original.
i=0
for s in "$PL_INCR" "$PL_ROCKS" "$PL_SP_NATIVE"; do
  i=$((i + 1))
  expect_exit 0 -- "$CKPT" compact "$s" -o "$TMP/pl-c$i" --copy
  expect_out "^RocksDB files: [0-9]+ \(.*\) -> [0-9]+ "
  expect_out "^verified: every column family of the 4 compacted databases holds the same [0-9]+ entries as before"
  if [ "$s" != "$PL_SP_NATIVE" ]; then expect_out "^note: properties: checkpoint -> savepoint \(native\)"; fi
  mv "$TMP/pl-c$i" "$TMP/pl-compacted-$i"
  expect_exit 0 -- "$CKPT" validate --deep "$TMP/pl-compacted-$i"
  expect_out "valid \(0 errors"
  expect_exit 0 -- "$CKPT" inspect --files "$TMP/pl-compacted-$i"
  expect_out "^kind +savepoint \(native\)"
  expect_out "^backend +rocksdb-incremental"
  checks=$((checks + 1))
  grep -q " absolute\$" "$TMP/out" && fail "compacted $s has absolute handles"
  oracle_roundtrip "$TMP/pl-compacted-$i/_metadata"
  restores_same "compact $s" "$s" "$TMP/pl-compacted-$i" "${PL_ROCKS_OPTS[@]}"
done
# Fewer table files: after compaction each database holds at most one SST per column family.
expect_exit 0 -- "$CKPT" compact "$PL_INCR" -o "$TMP/pl-cj" --json
python3 - "$TMP/out" <<'PY' || fail "compact --json of a pipeline checkpoint"
import json, sys
d = json.load(open(sys.argv[1]))
assert not d.get("dryRun") and len(d["subtasks"]) == 4
assert d["filesBefore"] == sum(s["filesBefore"] for s in d["subtasks"])
assert d["filesAfter"] == sum(s["filesAfter"] for s in d["subtasks"]) and d["filesAfter"] < d["filesBefore"]
assert int(d["entries"]) == sum(int(c.get("entries", 0)) for s in d["subtasks"] for c in s["columnFamilies"]) > 0
for s in d["subtasks"]:
    names = [f["name"] for f in s["files"]]
    assert "CURRENT" in names and any(n.startswith("MANIFEST-") for n in names), names
    assert all(f.get("shared", False) == f["name"].endswith(".sst") for f in s["files"])
PY
expect_exit 0 -- "$CKPT" compact "$PL_INCR" -o "$TMP/pl-dry" --dry-run
expect_out "would compact 4 RocksDB subtasks"
[ -e "$TMP/pl-dry" ] && fail "--dry-run wrote output"
# Refusals: hashmap and canonical state, an existing output, output inside the input.
expect_exit 2 -- "$CKPT" compact "$PL_HEAP" -o "$TMP/pl-x"
expect_err "nothing to compact: no RocksDB incremental or native handles"
expect_exit 2 -- "$CKPT" compact "$PL_SP_CANONICAL" -o "$TMP/pl-x"
expect_err "nothing to compact"
[ -e "$TMP/pl-x" ] && fail "a refused compact wrote output"
expect_exit 2 -- "$CKPT" compact "$PL_INCR" -o "$TMP/pl-cj"
expect_err "already exists \(use --force"
expect_exit 0 -- "$CKPT" compact "$PL_INCR" -o "$TMP/pl-cj" --force
# A relative output, plain and with ./ (the work directory is then ./.NAME.<hex>.tmp).
for rel in pl-rel ./pl-rel2; do
  expect_exit 0 -- sh -c 'cd "$1" && "$2" compact "$3" -o "$4"' sh "$TMP" "$CKPT" "$PL_INCR" "$rel"
  expect_exit 0 -- "$CKPT" validate "$TMP/${rel#./}"
done
expect_exit 2 -- "$CKPT" compact "$PL_SP_NATIVE" -o "$PL_SP_NATIVE/out"
expect_err "inside the input snapshot directory"
# The same entries, read back with Debian's ldb from a materialized subtask of each side.
if command -v ldb >/dev/null; then
  pl_scan() { # snapshot -> the sorted scan of the counter's subtask 1, every column family
    rm -rf "$TMP/pl-scan"
    "$CKPT" materialize "$1" --operator 0da08f51eaa85fc298e176a139b3649a --subtask 1 "$TMP/pl-scan" --copy >/dev/null || return 1
    for cf in default count; do
      echo "[$cf]"; ldb --db="$TMP/pl-scan" --ignore_unknown_options --column_family="$cf" --hex scan 2>/dev/null
    done
  }
  checks=$((checks + 1))
  a=$(pl_scan "$PL_INCR") && b=$(pl_scan "$TMP/pl-compacted-1") && [ "$a" = "$b" ] && [ "$(grep -c ' : ' <<<"$a")" -gt 0 ] ||
    fail "ldb scans of the pipeline checkpoint and its compaction differ"
else
  echo "ldb not found: entry comparison with ldb not run (the built-in verification still ran)"
fi
checks=$((checks + 1))
[ "$(pl_fingerprint)" = "$pl_before" ] || fail "compact changed a file of its input"

# --- the real Flink fixtures -------------------------------------------------------------------
if have_fixtures; then

  f120="$FIXTURES/new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint"
  f23="$FIXTURES/new-stateful-udf-migration-itcase-flink2.3-rocksdb-savepoint-native"
  heap="$FIXTURES/new-stateful-udf-migration-itcase-flink1.20-hashmap-checkpoint"
  fingerprint() { (cd "$1" && find . -type f -exec sha1sum {} + | sort); }
  before=$(fingerprint "$f120"; fingerprint "$f23")

  expect_exit 0 -- "$CKPT" compact "$f120" -o "$TMP/c120" --copy
  expect_out "RocksDB files: 66 \(.*\) -> 66 "
  expect_out "carried over unchanged: 16 files"
  expect_out "verified: every column family of the 14 compacted databases holds the same 32 entries"
  expect_out "note: properties: checkpoint -> savepoint \(native\)"
  expect_exit 0 -- "$CKPT" validate --deep "$TMP/c120"
  expect_out "valid \(0 errors"
  expect_exit 0 -- "$CKPT" inspect "$TMP/c120"
  expect_out "kind +savepoint \(native\)"
  expect_out "backend +rocksdb-incremental"
  # Only relative handles: the directory can be moved.
  mv "$TMP/c120" "$TMP/moved" && expect_exit 0 -- "$CKPT" validate "$TMP/moved"
  oracle_roundtrip "$TMP/moved/_metadata"

  # The same entries, read back with Debian's ldb from a materialized subtask of each side.
  if command -v ldb >/dev/null; then
    scan() { # snapshot -> the sorted scan of operator 4b81... subtask 1, every column family
      rm -rf "$TMP/scan"
      "$CKPT" materialize "$1" --operator 4b818c7923a927796d24b727201ba34d --subtask 1 "$TMP/scan" --copy >/dev/null || return 1
      for cf in default _timer_state/processing_timer _timer_state/event_timer state-name; do
        echo "[$cf]"; ldb --db="$TMP/scan" --ignore_unknown_options --column_family="$cf" --hex scan 2>/dev/null
      done
    }
    checks=$((checks + 1))
    a=$(scan "$f120") && b=$(scan "$TMP/moved") && [ "$a" = "$b" ] && [ "$(grep -c ' : ' <<<"$a")" -gt 0 ] ||
      fail "ldb scans of the original and the compacted subtask differ"
  else
    echo "ldb not found: entry comparison with ldb not run (the built-in verification still ran)"
  fi

  # JSON and --dry-run.
  expect_exit 0 -- "$CKPT" compact "$f23" -o "$TMP/c23" --json
  python3 - "$TMP/out" <<'PY' || fail "compact --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert not d.get("dryRun") and len(d["subtasks"]) == 14
assert d["filesBefore"] == sum(s["filesBefore"] for s in d["subtasks"])
assert d["filesAfter"] == sum(s["filesAfter"] for s in d["subtasks"])
assert int(d["bytesAfter"]) == sum(int(s["bytesAfter"]) for s in d["subtasks"])
assert int(d["entries"]) == sum(int(c.get("entries", 0)) for s in d["subtasks"] for c in s["columnFamilies"])
for s in d["subtasks"]:
    names = [f["name"] for f in s["files"]]
    assert "CURRENT" in names and any(n.startswith("MANIFEST-") for n in names), names
    assert all(f.get("shared", False) == f["name"].endswith(".sst") for f in s["files"])
PY
  expect_exit 0 -- "$CKPT" validate --deep "$TMP/c23"
  oracle_roundtrip "$TMP/c23/_metadata"
  expect_exit 0 -- "$CKPT" compact "$f23" -o "$TMP/dry" --dry-run
  expect_out "would compact 14 RocksDB subtasks \(66 files"
  [ -e "$TMP/dry" ] && fail "--dry-run wrote output"
  expect_exit 0 -- "$CKPT" compact "$f23" -o "$TMP/dry" --dry-run --json
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["dryRun"] and d["filesAfter"] == 0' "$TMP/out" ||
    fail "compact --dry-run --json"

  # Refusals: existing output, non-snapshot output even with --force, output inside the input,
  # nothing to compact.
  expect_exit 2 -- "$CKPT" compact "$f23" -o "$TMP/c23"
  expect_err "already exists \(use --force"
  expect_exit 0 -- "$CKPT" compact "$f23" -o "$TMP/c23" --force
  mkdir -p "$TMP/mine" && echo keep > "$TMP/mine/file"
  expect_exit 2 -- "$CKPT" compact "$f23" -o "$TMP/mine" --force
  expect_err "not a snapshot directory"
  [ "$(cat "$TMP/mine/file")" = keep ] || fail "--force touched a directory that was not a snapshot"
  cp -r "$f120" "$TMP/in"
  expect_exit 2 -- "$CKPT" compact "$TMP/in" -o "$TMP/in/out"
  expect_err "inside the input snapshot directory"
  expect_exit 2 -- "$CKPT" compact "$heap" -o "$TMP/x"
  expect_err "nothing to compact: no RocksDB incremental or native handles"
  expect_exit 2 -- "$CKPT" compact "$TMP/nonexistent" -o "$TMP/x"
  [ -e "$TMP/x" ] && fail "a refused compact wrote output"

  # Killed at random points: the output is absent or complete, never partial; a rerun succeeds.
  for delay in 0.05 0.2 0.4 0.8; do
    rm -rf "$TMP/k"
    "$CKPT" compact "$TMP/in" -o "$TMP/k" --threads 1 >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    checks=$((checks + 1))
    if [ -e "$TMP/k" ]; then
      "$CKPT" validate --deep "$TMP/k" >/dev/null 2>&1 || fail "killed after ${delay}s: a partial output is visible"
    fi
    rm -rf "$TMP"/.k.*.tmp
    expect_exit 0 -- "$CKPT" compact "$TMP/in" -o "$TMP/k" --force
    expect_exit 0 -- "$CKPT" validate --deep "$TMP/k"
  done

  [ "$(fingerprint "$f120"; fingerprint "$f23")" = "$before" ] || fail "a fixture changed"
fi
finish
