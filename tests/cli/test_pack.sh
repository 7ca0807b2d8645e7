#!/usr/bin/env bash
# ckpt pack / unpack end to end.
source "$(dirname "$0")/lib.sh"
need_fixtures

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
printf 'hello' | zstd -q > "$TMP/notpack.zst"
expect_exit 2 -- "$CKPT" unpack "$TMP/notpack.zst" "$TMP/t"
expect_err "archive ends inside the header|magic CKPTPACK"
expect_exit 2 -- "$CKPT" unpack "$TMP/missing.zst" "$TMP/t"
expect_exit 0 -- "$CKPT" pack --help
expect_exit 0 -- "$CKPT" unpack --help
finish
