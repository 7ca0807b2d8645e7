#!/usr/bin/env bash
# ckpt compact end to end on real fixtures: the output validates (--deep) and inspects as a
# native savepoint, holds the same entries (read back with ldb), JSON and --dry-run, refusals,
# and a run killed at random points leaves either nothing or a complete output.
source "$(dirname "$0")/lib.sh"
need_fixtures

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
expect_exit 0 -- "$CKPT" compact "$f23" -o "$TMP/dry" --dry-run
expect_out "would compact 14 RocksDB subtasks \(66 files"
[ -e "$TMP/dry" ] && fail "--dry-run wrote output"
expect_exit 0 -- "$CKPT" compact "$f23" -o "$TMP/dry" --dry-run --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["dryRun"] and "filesAfter" not in d' "$TMP/out" ||
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
finish
