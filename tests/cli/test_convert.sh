#!/usr/bin/env bash
# ckpt convert end to end: exports, flink -> json -> flink on every fixture and pipeline snapshot,
# version changes, relocation, self-contained directories, refusals and write safety. Every
# _metadata written goes through Flink's own loader and writer (oracle_roundtrip).
source "$(dirname "$0")/lib.sh"

# --- the bundled pipeline's snapshots ----------------------------------------------------------
pipeline_snapshots
# flink -> json -> flink and flink -> proto -> flink are byte-identical; Flink reads the result
# (as a _metadata in a directory: Flink resolves relative handles against it).
i=0
for s in "${PL_ALL[@]}"; do
  i=$((i + 1))
  mkdir -p "$TMP/pl-back/$i"
  expect_exit 0 -- "$CKPT" convert "$s" --to json -o "$TMP/pl-$i.json"
  expect_exit 0 -- "$CKPT" convert "$TMP/pl-$i.json" --to flink -o "$TMP/pl-back/$i/_metadata"
  checks=$((checks + 1))
  cmp -s "$s/_metadata" "$TMP/pl-back/$i/_metadata" || fail "flink -> json -> flink differs: $s"
  expect_exit 0 -- "$CKPT" convert "$s" --to proto -o "$TMP/pl-$i.pb"
  expect_exit 0 -- "$CKPT" convert --from proto "$TMP/pl-$i.pb" -o "$TMP/pl-$i.back"
  checks=$((checks + 1))
  cmp -s "$s/_metadata" "$TMP/pl-$i.back" || fail "flink -> proto -> flink differs: $s"
done
oracle_roundtrip "$TMP"/pl-back/*/_metadata

# Versions 5 and 6 hold the same fields: the pipeline's version 6 to 5 and back is byte-identical,
# and Flink rewrites both byte for byte. Version 4 has no place for the operators' uids and names:
# refused as lossy. Version 3 has no properties trailer: refused.
for s in "$PL_INCR" "$PL_SP_NATIVE" "$PL_UNALIGNED"; do
  rm -rf "$TMP/pl-v5" "$TMP/pl-v6"
  mkdir -p "$TMP/pl-v5" "$TMP/pl-v6"
  expect_exit 0 -- "$CKPT" convert "$s" --format-version 5 --keep-relative -o "$TMP/pl-v5/_metadata"
  expect_exit 0 -- "$CKPT" convert "$TMP/pl-v5" --format-version 6 --keep-relative -o "$TMP/pl-v6/_metadata"
  expect_out "format version 6"
  checks=$((checks + 1))
  cmp -s "$s/_metadata" "$TMP/pl-v6/_metadata" || fail "$s: V6 -> V5 -> V6 changed bytes"
  oracle_roundtrip "$TMP/pl-v5/_metadata"
  expect_exit 1 -- "$CKPT" convert "$s" --format-version 4 --keep-relative -o "$TMP/pl-v4-lossy"
  expect_exit 0 -- "$CKPT" inspect "$TMP/pl-v6"
  expect_out "^format +version 6"
done
expect_exit 1 -- "$CKPT" convert "$PL_HEAP" --format-version 3 -o "$TMP/pl-lossy"
expect_err "checkpoint properties .* exist only in version 4\+"
[ -e "$TMP/pl-lossy" ] && fail "a refused conversion wrote output"

# Written elsewhere, the hashmap checkpoint's relative handles become absolute; the job directory
# then moves and --relocate rewrites the paths.
cp -r "$(dirname "$PL_HEAP")" "$TMP/pl-job"
mkdir -p "$TMP/pl-abs" "$TMP/pl-reloc"
expect_exit 0 -- "$CKPT" convert "$TMP/pl-job/${PL_HEAP##*/}" -o "$TMP/pl-abs"
expect_out "relative handles became absolute"
# Its files are outside its root (the directory holding it): validate reads them when told to.
expect_exit 1 -- "$CKPT" validate "$TMP/pl-abs"
expect_out "F32 .*resolves outside the snapshot's root"
expect_exit 0 -- "$CKPT" validate --allow-outside "$TMP/pl-job" "$TMP/pl-abs"
oracle_roundtrip "$TMP/pl-abs/_metadata"
mv "$TMP/pl-job" "$TMP/pl-moved-job"
expect_exit 1 -- "$CKPT" validate --allow-outside "$TMP/pl-job" "$TMP/pl-abs"
expect_out "error +F24"
expect_exit 0 -- "$CKPT" convert "$TMP/pl-abs" --relocate "$TMP/pl-job=$TMP/pl-moved-job" -o "$TMP/pl-reloc"
expect_out "relocated [1-9][0-9]* absolute handle paths"
expect_exit 0 -- "$CKPT" validate --deep --allow-outside "$TMP/pl-moved-job" "$TMP/pl-reloc"
expect_exit 0 -- "$CKPT" inspect --files "$TMP/pl-reloc"
expect_out "^$TMP/pl-moved-job/${PL_HEAP##*/}/[0-9a-f-]+ .* absolute\$"
oracle_roundtrip "$TMP/pl-reloc/_metadata"
# --relocate --in-place: a copied RocksDB incremental job (absolute shared/ handles) repaired where
# it is; every checkpoint then reads only its own copy's files.
job=$(dirname "$PL_INCR")
cp -a "$job" "$TMP/pl-incr-job"
expect_exit 0 -- "$CKPT" convert --relocate "$job=$TMP/pl-incr-job" --in-place "$TMP/pl-incr-job"
expect_out "^([0-9]+) snapshots rewritten, 0 without matching paths, 0 failed"
for m in "$TMP"/pl-incr-job/chk-*/_metadata; do
  expect_exit 0 -- "$CKPT" validate --deep "$(dirname "$m")"
  expect_exit 0 -- "$CKPT" inspect --files "$(dirname "$m")"
  checks=$((checks + 1))
  grep -qF "$job/" "$TMP/out" && fail "$m: still references $job"
  oracle_roundtrip "$m"
done

# --self-contained: a relocatable native savepoint that still restores to the same state (RocksDB
# incremental: shared/ files copied in; unaligned: channel state carried over).
expect_exit 0 -- "$CKPT" convert "$PL_INCR" --self-contained "$TMP/pl-sc" --dry-run
expect_out "would write [1-9][0-9]* files"
[ -e "$TMP/pl-sc" ] && fail "dry run wrote output"
expect_exit 0 -- "$CKPT" convert "$PL_INCR" --self-contained "$TMP/pl-sc" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert not d.get("dryRun") and d["files"]' "$TMP/out" ||
  fail "self-contained json"
mv "$TMP/pl-sc" "$TMP/pl-sc-moved"
expect_exit 0 -- "$CKPT" inspect --files "$TMP/pl-sc-moved"
expect_out "^kind +savepoint \(native\)"
checks=$((checks + 1))
grep -q " absolute\$" "$TMP/out" && fail "self-contained output has absolute handles"
expect_exit 0 -- "$CKPT" validate --deep "$TMP/pl-sc-moved"
oracle_roundtrip "$TMP/pl-sc-moved/_metadata"
restores_same "RocksDB incremental: convert --self-contained" "$PL_INCR" "$TMP/pl-sc-moved" "${PL_ROCKS_OPTS[@]}"
expect_exit 0 -- "$CKPT" convert "$PL_UNALIGNED" --self-contained "$TMP/pl-sc-unaligned" --copy
expect_exit 0 -- "$CKPT" validate --deep "$TMP/pl-sc-unaligned"
oracle_roundtrip "$TMP/pl-sc-unaligned/_metadata"
restores_same "unaligned: convert --self-contained" "$PL_UNALIGNED" "$TMP/pl-sc-unaligned"
expect_exit 2 -- "$CKPT" convert "$PL_INCR" --self-contained "$TMP/pl-sc-moved"
expect_err "already exists"

# --- the real Flink fixtures -------------------------------------------------------------------
if have_fixtures; then

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
  oracle_roundtrip "$TMP/copy_metadata"
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
  # Flink resolves relative handles against the directory of a file named _metadata.
  mkdir -p "$TMP/v5" && cp "$TMP/v5_metadata" "$TMP/v5/_metadata"
  oracle_roundtrip "$TMP/v5/_metadata"
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
  oracle_roundtrip "$TMP/v3up"
  expect_exit 0 -- "$CKPT" inspect "$TMP/v3up"
  expect_out "kind +checkpoint"

  # A checkpoint whose handles are absolute: writing the metadata elsewhere turns its relative
  # handles absolute (spec §11.3), and the files are still found.
  mkdir -p "$TMP/job"
  cp -r "$rocks" "$TMP/job/chk-2"
  mkdir -p "$TMP/abs"
  expect_exit 0 -- "$CKPT" convert "$TMP/job/chk-2" -o "$TMP/abs"
  expect_out "relative handles became absolute"
  oracle_roundtrip "$TMP/abs/_metadata"
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
  oracle_roundtrip "$TMP/reloc/_metadata" "$TMP/sc/_metadata"
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
  oracle_roundtrip "$TMP/sp-moved/_metadata"
  mkdir -p "$TMP/not-a-snapshot"
  expect_exit 2 -- "$CKPT" convert "$rocks" --self-contained "$TMP/not-a-snapshot" --force
  expect_err "not a snapshot directory"
  expect_exit 2 -- "$CKPT" convert "$TMP/sp-moved" --self-contained "$TMP/sp-moved/inner"
  expect_err "inside the input"
  expect_exit 2 -- "$CKPT" convert "$rocks" --self-contained "$TMP/x" --relocate a=b
fi

expect_exit 2 -- "$CKPT" convert "$TMP/nonexistent"
expect_err "cannot access"
expect_exit 0 -- "$CKPT" convert --help
expect_out "--self-contained"

# Errors name what the user gave, never a temporary file beside it.
for out in "-o $TMP/missing/dir/" "-o $TMP/missing/dir/x" "--self-contained $TMP/missing/dir/x"; do
  # shellcheck disable=SC2086
  expect_exit 2 -- "$CKPT" convert "$PL_HEAP" $out
  expect_err "^ckpt convert: $TMP/missing/dir/x?: cannot create"
  checks=$((checks + 1))
  grep -q '\.tmp' "$TMP/err" && fail "an error names a temporary file: $(cat "$TMP/err")"
done
expect_exit 2 -- "$CKPT" pack "$PL_HEAP" "$TMP/missing/x.ckpt"
expect_err "$TMP/missing/x.ckpt: cannot create"
# Notes speak of Flink's behaviour, not of internal documents.
expect_exit 0 -- "$CKPT" convert "$PL_HEAP" -o "$TMP/elsewhere._metadata"
checks=$((checks + 1))
grep -q "§\|spec" "$TMP/out" "$TMP/err" && fail "convert cites an internal document: $(cat "$TMP/out" "$TMP/err")"
finish
