#!/usr/bin/env bash
# ckpt validate end to end, on snapshots the bundled pipeline writes and on the real Flink fixtures
# (when present): exit codes, output forms, --latest, --expect, --map/--strict, --deep, and a
# sample of corrupted inputs through the binary.
source "$(dirname "$0")/lib.sh"

# --- the bundled pipeline's snapshots ----------------------------------------------------------
pipeline_snapshots
# Every kind passes --deep (RocksDB: the SST files are read); JSON says the same.
for s in "${PL_ALL[@]}"; do
  expect_exit 0 -- "$CKPT" validate --deep "$s"
  expect_out "^$s/_metadata: valid \(0 errors, 0 warnings, 0 notes; ([0-9]+) of \1 files checked"
  expect_exit 0 -- "$CKPT" validate --json "$s"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["snapshots"][0]; assert s["status"]=="VALID" and d["valid"]==1, d' "$TMP/out" ||
    fail "$s: JSON of a valid snapshot"
done
expect_exit 0 -- "$CKPT" validate --deep "$PL_INCR"
expect_out "KiB read\)"
# Everything the pipeline wrote, as one root: every snapshot valid. The RocksDB full job was
# killed with -9: a checkpoint it had in flight is an incomplete chk-N (F29), then removed.
for d in "$TMP"/pipeline/ck-rocks/*/chk-*; do
  [ -f "$d/_metadata" ] && continue
  expect_exit 1 -- "$CKPT" validate "$TMP/pipeline"
  expect_out "^$d: incomplete .*first error F29"
  rm -rf "$d"
done
expect_exit 0 -- "$CKPT" validate "$TMP/pipeline"
expect_out "^([0-9]+) snapshots: \1 valid, 0 invalid or incomplete, 0 unreadable"
# --latest: the newest checkpoint of the job; --expect-from: the job's own operators.
expect_exit 0 -- "$CKPT" validate --latest "$(dirname "$PL_INCR")"
expect_out "^$PL_INCR\$"
expect_exit 0 -- "$CKPT" validate --expect-from "$PL_SP_NATIVE" "$PL_INCR"
printf 'operators:\n  - uid: not-in-the-snapshot\n    parallelism: 2\n' > "$TMP/pl-job.yaml"
expect_exit 1 -- "$CKPT" validate --expect "$TMP/pl-job.yaml" "$PL_HEAP"
expect_out "error +E01"
# A copy of the hashmap job (its handles are relative): a truncated state file is F23, a missing
# _metadata drops the checkpoint from --latest, a truncated _metadata is an S finding.
cp -r "$(dirname "$PL_HEAP")" "$TMP/pl-job"
copy="$TMP/pl-job/${PL_HEAP##*/}"
expect_exit 0 -- "$CKPT" validate "$copy"
state=$(find "$copy" -type f ! -name _metadata | head -1)
truncate -s 10 "$state"
expect_exit 1 -- "$CKPT" validate "$copy"
expect_out "error +F23"
expect_out "^$copy/_metadata: invalid \\(1 errors"
expect_exit 0 -- "$CKPT" validate --latest "$TMP/pl-job"
expect_out "^$TMP/pl-job/chk-[0-9]+\$"
[ "$(cat "$TMP/out")" != "$copy" ] || fail "--latest chose a checkpoint with a truncated file"
size=$(stat -c %s "$PL_HEAP/_metadata")
for cut in 0 7 40 $((size / 2)) $((size - 1)); do
  head -c "$cut" "$PL_HEAP/_metadata" > "$copy/_metadata"
  expect_exit 1 -- "$CKPT" validate "$copy"
  expect_out "error +S0[0-9]"
done
# --deep reads the SST files: one flipped byte in a table file of the incremental checkpoint is
# found (the file is put back afterwards).
sst=$("$CKPT" inspect --files "$PL_INCR" | awk '$2 ~ /\.sst\]$/ { print $1; exit }')
cp "$sst" "$TMP/sst.bak"
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//3] ^= 0x10; open(p,"wb").write(b)' "$sst"
expect_exit 0 -- "$CKPT" validate "$PL_INCR"
expect_exit 1 -- "$CKPT" validate --deep "$PL_INCR"
expect_out "^error "
cp "$TMP/sst.bak" "$sst"
expect_exit 0 -- "$CKPT" validate --deep "$PL_INCR"
expect_exit 2 -- "$CKPT" validate --map nonsense "$PL_HEAP"
expect_err "--map nonsense: expected PREFIX=DIR"

# --- the real Flink fixtures -------------------------------------------------------------------
if have_fixtures; then
  heap="$FIXTURES/type-serializer-snapshot-migration-itcase-flink1.16-hashmap-checkpoint"
  rocks="$FIXTURES/new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint"
  v5="$FIXTURES/new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint"
  foreign="$FIXTURES/bravo-flink1.6-rocksdb-transformed-savepoint"

  # An intact snapshot: summary line, exit 0; the same through _metadata; JSON is one document.
  expect_exit 0 -- "$CKPT" validate "$heap"
  expect_out "valid \(0 errors, 0 warnings, 0 notes; 2 of 2 files checked\)"
  expect_exit 0 -- "$CKPT" validate "$heap/_metadata"
  expect_exit 0 -- "$CKPT" validate --json "$heap"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["snapshots"][0]; assert s["status"]=="VALID" and d["valid"]==1, d' "$TMP/out" || fail "JSON of a valid snapshot"

  # --deep on a RocksDB checkpoint reads the SST files.
  expect_exit 0 -- "$CKPT" validate --deep "$rocks"
  expect_out "read\)"
  # The same from inside the snapshot directory: relative files of "." are inside ".".
  expect_exit 0 -- sh -c 'cd "$1" && "$2" validate --deep .' sh "$rocks" "$CKPT"
  expect_out "valid \(0 errors"

  # A fixture naming another machine's absolute files: F24 errors, exit 1.
  expect_exit 1 -- "$CKPT" validate "$(dirname "$(find "$foreign" -name _metadata | head -1)")"
  expect_out "error +F24"
  expect_out "invalid"

  # Many snapshots: one summary line each, then a total; exit 1 because of the foreign ones.
  expect_exit 1 -- "$CKPT" validate "$FIXTURES"
  expect_out "snapshots: [0-9]+ valid, [0-9]+ invalid or incomplete, 0 unreadable"
  lines=$(grep -c ': valid (' "$TMP/out")
  [ "$lines" -gt 280 ] || fail "only $lines valid summary lines"

  # A job directory: incomplete chk-N, a truncated file, --latest picks the newest that passes.
  job="$TMP/job"
  mkdir -p "$job/chk-5" "$job/chk-3"
  cp -r "$heap" "$job/chk-2"; cp -r "$heap/." "$job/chk-3/"
  chmod -R u+w "$job"
  truncate -s 100 "$job/chk-3/bb49315e-93ba-4924-9743-236feee8a484"
  touch -d '2026-01-01 00:00:02' "$job/chk-3/_metadata"; touch -d '2026-01-01 00:00:01' "$job/chk-2/_metadata"
  expect_exit 1 -- "$CKPT" validate "$job"
  expect_out "chk-5: incomplete"
  expect_out "chk-3/_metadata: invalid .*first error F23"
  expect_exit 0 -- "$CKPT" validate --latest "$job"
  expect_out "^$job/chk-2\$"
  expect_exit 0 -- "$CKPT" validate --latest --json "$job"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["latestValid"].endswith("chk-2"), d' "$TMP/out" || fail "--latest --json"
  rm "$job/chk-2/_metadata"
  expect_exit 1 -- "$CKPT" validate --latest "$job"
  expect_err "no snapshot under .* passes"

  # --expect: an operator with state missing from the job (named by uid), bad files are usage errors.
  printf 'operators:\n  - uid: not-in-the-snapshot\n    parallelism: 2\n' > "$TMP/job.yaml"
  expect_exit 1 -- "$CKPT" validate --expect "$TMP/job.yaml" "$v5"
  expect_out "error +E01"
  expect_out "allowNonRestoredState"
  expect_out "info +E04"
  expect_exit 0 -- "$CKPT" validate --expect-from "$v5" "$v5"
  printf -- '- uid: a\n  colour: blue\n' > "$TMP/bad.yaml"
  expect_exit 2 -- "$CKPT" validate --expect "$TMP/bad.yaml" "$v5"
  expect_err "bad.yaml: line 2: unknown key"

  # Usage errors and unreadable input: exit 2 with one line.
  expect_exit 2 -- "$CKPT" validate --map nonsense "$heap"
  expect_err "--map nonsense: expected PREFIX=DIR"

  # Corrupted _metadata through the binary: every truncation exits 1 with a one-line S finding.
  mkdir -p "$TMP/corrupt"
  size=$(stat -c %s "$rocks/_metadata")
  for cut in 0 1 7 40 $((size / 3)) $((size / 2)) $((size - 1)); do
    head -c "$cut" "$rocks/_metadata" > "$TMP/corrupt/_metadata"
    expect_exit 1 -- "$CKPT" validate "$TMP/corrupt"
    expect_out "error +S0[0-9]"
  done

  # A directory that discovery could not search is never silently skipped: a root is not "all
  # valid" when a snapshot could hide below it (here: nested deeper than discovery descends).
  deep=$TMP/deep-root
  nested=$deep/a/b/c/d/e/f/g/h/i/j/k/l/m/n
  mkdir -p "$nested"
  cp "$heap/_metadata" "$nested/_metadata"
  expect_exit 2 -- "$CKPT" validate "$deep"
  expect_out "nested deeper than 12 levels"
  expect_exit 2 -- "$CKPT" inspect "$deep"
  expect_err "nested deeper than 12 levels.*not listed"
fi

# Usage errors and unreadable input: exit 2 with one line.
expect_exit 2 -- "$CKPT" validate "$TMP/does-not-exist"
expect_exit 2 -- "$CKPT" validate
expect_exit 0 -- "$CKPT" validate --list-rules
expect_out "K14"
expect_exit 0 -- "$CKPT" validate --list-rules --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["rules"]) > 40' "$TMP/out" || fail "rule list JSON"

finish
