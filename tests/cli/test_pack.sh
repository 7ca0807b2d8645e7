#!/usr/bin/env bash
# ckpt pack / unpack end to end, on snapshots the bundled pipeline writes and on a real Flink
# fixture (when present).
source "$(dirname "$0")/lib.sh"

# --- the bundled pipeline's snapshots ----------------------------------------------------------
pipeline_snapshots
# pack -> unpack -> validate --deep for every backend and kind; the unpacked directory is a
# savepoint with only relative handles, equal to convert --self-contained, and Flink rewrites its
# _metadata byte for byte.
i=0
for s in "$PL_HEAP" "$PL_INCR" "$PL_ROCKS" "$PL_SP_NATIVE" "$PL_SP_CANONICAL" "$PL_UNALIGNED"; do
  i=$((i + 1))
  files=$("$CKPT" inspect --json "$s" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["files"] + 1)')
  expect_exit 0 -- "$CKPT" pack "$s" "$TMP/pl-$i.ckpt" --dry-run
  expect_out "would pack $files files"
  [ -e "$TMP/pl-$i.ckpt" ] && fail "dry run wrote output"
  expect_exit 0 -- "$CKPT" pack "$s" "$TMP/pl-$i.ckpt"
  expect_out "packed $files files"
  checks=$((checks + 1))
  zstd -t -q "$TMP/pl-$i.ckpt" || fail "zstd -t rejects the archive of $s"
  expect_exit 0 -- "$CKPT" unpack --list "$TMP/pl-$i.ckpt"
  expect_out "$files files .* all checksums verified"
  expect_exit 0 -- "$CKPT" unpack "$TMP/pl-$i.ckpt" "$TMP/pl-un-$i"
  mv "$TMP/pl-un-$i" "$TMP/pl-unpacked-$i"
  expect_exit 0 -- "$CKPT" validate --deep "$TMP/pl-unpacked-$i"
  expect_out "valid \(0 errors, 0 warnings, 0 notes; $((files - 1)) of $((files - 1)) files checked"
  expect_exit 0 -- "$CKPT" inspect --files "$TMP/pl-unpacked-$i"
  # A checkpoint becomes a native savepoint; a canonical savepoint stays canonical.
  if [ "$s" = "$PL_SP_CANONICAL" ]; then kind=canonical; else kind=native; fi
  expect_out "^kind +savepoint \($kind\)"
  checks=$((checks + 1))
  grep -q " absolute\$" "$TMP/out" && fail "unpacked $s has absolute handles"
  "$CKPT" convert "$s" --self-contained "$TMP/pl-sc-$i" --copy >/dev/null
  expect_exit 0 -- "$CKPT" diff "$TMP/pl-sc-$i" "$TMP/pl-unpacked-$i"
  oracle_roundtrip "$TMP/pl-unpacked-$i/_metadata"
done
# The unpacked RocksDB incremental checkpoint restores to the same state as the original.
restores_same "RocksDB incremental: pack + unpack" "$PL_INCR" "$TMP/pl-unpacked-2" "${PL_ROCKS_OPTS[@]}"
expect_exit 2 -- "$CKPT" pack "$PL_INCR" "$TMP/pl-2.ckpt"
expect_err "already exists"
expect_exit 0 -- "$CKPT" pack "$PL_INCR" "$TMP/pl-2.ckpt" --force --level 9 --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert int(d["archiveBytes"]) > 0' "$TMP/out" || fail "pack json"
expect_exit 2 -- "$CKPT" unpack "$TMP/pl-2.ckpt" "$TMP/pl-unpacked-2"
expect_err "already exists"
expect_exit 0 -- "$CKPT" unpack "$TMP/pl-2.ckpt" "$TMP/pl-unpacked-2" --force
expect_exit 0 -- "$CKPT" validate --deep "$TMP/pl-unpacked-2"
# Damaged archives: nothing is extracted.
head -c 2000 "$TMP/pl-2.ckpt" > "$TMP/pl-trunc.ckpt"
expect_exit 2 -- "$CKPT" unpack "$TMP/pl-trunc.ckpt" "$TMP/pl-t"
[ -e "$TMP/pl-t" ] && fail "truncated archive extracted"
python3 - "$TMP/pl-2.ckpt" "$TMP/pl-flip.ckpt" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 0x40; open(sys.argv[2], "wb").write(b)
PY
expect_exit 2 -- "$CKPT" unpack "$TMP/pl-flip.ckpt" "$TMP/pl-t"
[ -e "$TMP/pl-t" ] && fail "corrupted archive extracted"

# --- a real Flink fixture ----------------------------------------------------------------------
if have_fixtures; then

  rocks="$FIXTURES/new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint"
  expect_exit 0 -- "$CKPT" pack "$rocks" "$TMP/a.ckpt.zst" --dry-run
  expect_out "would pack 83 files"
  [ -e "$TMP/a.ckpt.zst" ] && fail "dry run wrote output"
  expect_exit 0 -- "$CKPT" pack "$rocks" "$TMP/a.ckpt.zst"
  expect_out "packed 83 files"
  expect_exit 2 -- "$CKPT" pack "$rocks" "$TMP/a.ckpt.zst"
  expect_err "already exists"
  expect_exit 2 -- "$CKPT" pack "$rocks" "$TMP/never.ckpt.zst" --map nonsense
  expect_err "--map nonsense: expected PREFIX=DIR"
  expect_exit 0 -- "$CKPT" pack "$rocks" "$TMP/a.ckpt.zst" --force --level 9 --json
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert int(d["archiveBytes"]) > 0' "$TMP/out" || fail "pack json"
  # The archive is a plain zstd stream.
  zstd -t -q "$TMP/a.ckpt.zst" || fail "zstd -t rejects the archive"

  expect_exit 0 -- "$CKPT" unpack --list "$TMP/a.ckpt.zst"
  expect_out "83 files .* all checksums verified"
  expect_exit 0 -- "$CKPT" unpack "$TMP/a.ckpt.zst" "$TMP/out-dir"
  expect_exit 0 -- "$CKPT" diff "$TMP/out-dir" "$TMP/out-dir"
  "$CKPT" convert "$rocks" --self-contained "$TMP/sc" --copy >/dev/null
  expect_exit 0 -- "$CKPT" diff "$TMP/sc" "$TMP/out-dir"
  mv "$TMP/out-dir" "$TMP/moved"
  expect_exit 0 -- "$CKPT" validate "$TMP/moved"
  expect_exit 0 -- "$CKPT" inspect "$TMP/moved"
  expect_out "savepoint \(native\)"
  expect_exit 2 -- "$CKPT" unpack "$TMP/a.ckpt.zst" "$TMP/moved"
  expect_err "already exists"
  expect_exit 0 -- "$CKPT" unpack "$TMP/a.ckpt.zst" "$TMP/moved" --force
  oracle_roundtrip "$TMP/moved/_metadata"

  # Damaged archives: nothing is extracted.
  head -c 2000 "$TMP/a.ckpt.zst" > "$TMP/trunc.zst"
  expect_exit 2 -- "$CKPT" unpack "$TMP/trunc.zst" "$TMP/t"
  [ -e "$TMP/t" ] && fail "truncated archive extracted"
  python3 - "$TMP/a.ckpt.zst" "$TMP/flip.zst" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 0x40; open(sys.argv[2], "wb").write(b)
PY
  expect_exit 2 -- "$CKPT" unpack "$TMP/flip.zst" "$TMP/t"
  [ -e "$TMP/t" ] && fail "corrupted archive extracted"
fi

printf 'hello' | zstd -q > "$TMP/notpack.zst"
expect_exit 2 -- "$CKPT" unpack "$TMP/notpack.zst" "$TMP/t"
expect_err "archive ends inside the header|magic CKPTPACK"
expect_exit 2 -- "$CKPT" unpack "$TMP/missing.zst" "$TMP/t"
expect_exit 0 -- "$CKPT" pack --help
expect_exit 0 -- "$CKPT" unpack --help
finish
