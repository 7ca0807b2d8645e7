#!/usr/bin/env bash
# ckpt convert end to end: exports, flink -> json -> flink on every fixture, version changes,
# relocation, self-contained directories, refusals and write safety.
source "$(dirname "$0")/lib.sh"
need_fixtures

# flink -> json -> flink is byte-identical on every fixture; proto too on every tenth.
n=0
while IFS= read -r md; do
  [ "$(head -c 8 "$md" | od -An -tx1 | tr -d ' \n')" = "4960672d00000000" ] && continue  # Flink 1.1 (V0)
  rm -f "$TMP/x.json" "$TMP/x.pb" "$TMP/back"
  "$CKPT" convert "$md" --to json -o "$TMP/x.json" >/dev/null 2>"$TMP/err" || fail "to json: $md: $(cat "$TMP/err")"
  "$CKPT" convert "$TMP/x.json" --to flink -o "$TMP/back" >/dev/null 2>"$TMP/err" || fail "from json: $md: $(cat "$TMP/err")"
  cmp -s "$md" "$TMP/back" || fail "flink -> json -> flink differs: $md"
  if [ $((n % 10)) = 0 ]; then
    rm -f "$TMP/back"
    "$CKPT" convert "$md" --to proto -o "$TMP/x.pb" >/dev/null && "$CKPT" convert --from proto "$TMP/x.pb" -o "$TMP/back" >/dev/null &&
      cmp -s "$md" "$TMP/back" || fail "flink -> proto -> flink differs: $md"
  fi
  n=$((n + 1))
  checks=$((checks + 1))
done < <(find "$FIXTURES" -name _metadata | sort)
[ "$n" -gt 290 ] || fail "only $n fixtures converted"

rocks="$FIXTURES/new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint"
v5="$FIXTURES/new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint"

# JSON to stdout parses; binary to a terminal is refused; outputs are never overwritten.
expect_exit 0 -- "$CKPT" convert "$rocks" --to json --pretty
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["version"] == 4' "$TMP/out" || fail "json"
expect_exit 0 -- "$CKPT" convert "$rocks" -o "$TMP/copy_metadata"
expect_exit 2 -- "$CKPT" convert "$rocks" -o "$TMP/copy_metadata"
expect_err "already exists \(use --force"
expect_exit 0 -- "$CKPT" convert "$rocks" -o "$TMP/copy_metadata" --force
expect_exit 2 -- "$CKPT" convert "$rocks" -o "$rocks/_metadata" --force
expect_err "is the input file"
expect_exit 2 -- "$CKPT" convert "$rocks" --to yaml
expect_exit 2 -- "$CKPT" convert "$rocks" --self-contained "$TMP/never" --map nonsense
expect_err "--map nonsense: expected PREFIX=DIR"
expect_exit 2 -- "$CKPT" convert "$TMP/nonexistent"
expect_err "cannot access"

# Version changes: lossless ones round-trip, lossy ones are refused with the reason (exit 1).
expect_exit 0 -- "$CKPT" convert "$rocks" --format-version 5 --keep-relative -o "$TMP/v5_metadata"
expect_exit 0 -- "$CKPT" convert "$TMP/v5_metadata" --format-version 4 --keep-relative -o "$TMP/v4_metadata"
cmp -s "$TMP/v4_metadata" "$rocks/_metadata" || fail "V4 -> V5 -> V4 changed bytes"
expect_exit 1 -- "$CKPT" convert "$v5" --format-version 4 -o "$TMP/lossy"
expect_err "fields would be lost"
expect_err "uid"
[ -e "$TMP/lossy" ] && fail "a refused conversion wrote output"
expect_exit 1 -- "$CKPT" convert "$rocks" --format-version 3 -o "$TMP/lossy"
expect_err "checkpoint properties .* exist only in version 4\+"
v3=$(find "$FIXTURES" -path '*flink1.15*checkpoint*' -name _metadata | head -1)
expect_exit 1 -- "$CKPT" convert "$v3" --format-version 4 -o "$TMP/v3up"
expect_err "pass --properties"
expect_exit 0 -- "$CKPT" convert "$v3" --format-version 4 --properties checkpoint -o "$TMP/v3up"
expect_out "synthesized"
expect_exit 0 -- "$CKPT" inspect "$TMP/v3up"
expect_out "kind +checkpoint"

# A checkpoint whose handles are absolute: writing the metadata elsewhere turns its relative
# handles absolute (spec §11.3), and the files are still found.
mkdir -p "$TMP/job"
cp -r "$rocks" "$TMP/job/chk-2"
mkdir -p "$TMP/abs"
expect_exit 0 -- "$CKPT" convert "$TMP/job/chk-2" -o "$TMP/abs"
expect_out "relative handles became absolute"
expect_exit 0 -- "$CKPT" inspect --files "$TMP/abs"
expect_out "absolute"
# Relocation: move the files and rewrite the paths; relative handles stay relative under the new dir.
mv "$TMP/job" "$TMP/moved-job"
mkdir -p "$TMP/reloc"
expect_exit 0 -- "$CKPT" convert "$TMP/abs" --relocate "$TMP/job=$TMP/moved-job" -o "$TMP/reloc"
expect_out "relocated 82 absolute handle paths"
# Its files lie outside its root (the directory holding the written _metadata): read only when
# the user names their directory.
expect_exit 2 -- "$CKPT" convert "$TMP/reloc" --self-contained "$TMP/sc" --copy
expect_err "resolves outside the snapshot's root \($TMP/reloc\); pass --allow-outside DIR to read it \(and 81 more files outside\)$"
expect_exit 0 -- "$CKPT" convert "$TMP/reloc" --self-contained "$TMP/sc" --copy --allow-outside "$TMP/moved-job"
expect_out "82 relative, 0 absolute|0 relative, 82 absolute"
expect_exit 2 -- "$CKPT" convert "$TMP/abs" --self-contained "$TMP/sc-missing"
expect_err "resolves outside the snapshot's root"
expect_exit 1 -- "$CKPT" convert "$TMP/abs" --self-contained "$TMP/sc-missing" --allow-outside "$TMP/job"
expect_err "No such file"
[ -e "$TMP/sc-missing" ] && fail "refused self-contained conversion left output"

# Self-contained: validate-style check passes before and after moving; dry run writes nothing.
expect_exit 0 -- "$CKPT" convert "$rocks" --self-contained "$TMP/sp" --dry-run
expect_out "would write 82 files"
[ -e "$TMP/sp" ] && fail "dry run wrote output"
expect_exit 0 -- "$CKPT" convert "$rocks" --self-contained "$TMP/sp" --copy --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["copied"] == 82 and not d.get("dryRun")' "$TMP/out" || fail "self-contained json"
expect_exit 0 -- "$CKPT" inspect "$TMP/sp"
expect_out "savepoint \(native\)"
expect_exit 0 -- "$CKPT" validate "$TMP/sp"
mv "$TMP/sp" "$TMP/sp-moved"
expect_exit 0 -- "$CKPT" validate "$TMP/sp-moved"
expect_exit 0 -- "$CKPT" validate "$TMP/sc"
expect_exit 0 -- "$CKPT" diff "$TMP/sp-moved" "$TMP/sc"
expect_exit 2 -- "$CKPT" convert "$rocks" --self-contained "$TMP/sp-moved" --copy
expect_err "already exists"
expect_exit 0 -- "$CKPT" convert "$rocks" --self-contained "$TMP/sp-moved" --copy --force
mkdir -p "$TMP/not-a-snapshot"
expect_exit 2 -- "$CKPT" convert "$rocks" --self-contained "$TMP/not-a-snapshot" --force
expect_err "not a snapshot directory"
expect_exit 2 -- "$CKPT" convert "$TMP/sp-moved" --self-contained "$TMP/sp-moved/inner"
expect_err "inside the input"
expect_exit 2 -- "$CKPT" convert "$rocks" --self-contained "$TMP/x" --relocate a=b
expect_exit 0 -- "$CKPT" convert --help
expect_out "--self-contained"
finish
