#!/usr/bin/env bash
# A snapshot is input, not a command: handles naming files outside the snapshot's root, paths
# through a symlinked directory inside it, and sink committables naming another directory are
# refused with one line (exit 2) by every command that would copy, link, pack or rename them;
# validate reports such handles (F32); --allow-outside DIR lets a named directory through. Every
# situation is built with the bundled pipeline (no fixtures needed).
source "$(dirname "$0")/lib.sh"

JOB=(--generate 30000 --vocabulary 2000 --window 2s --events-per-second 20000 --seed 9)
# A small memory threshold: state goes to files, not inline into _metadata.
SMALL=(-D state.storage.fs.memory-threshold=1kb -D execution.checkpointing.interval=50ms --keep-checkpoints)
mkdir -p "$TMP/secret"
echo "top secret" >"$TMP/secret/passwd"

# --- heap state: pack, convert --self-contained, validate ------------------------------------
CK=$TMP/ck
expect_exit 0 -- "$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o-heap" --rate 20000 -D "state.checkpoints.dir=$CK" "${SMALL[@]}"
chk=$(latest_checkpoint "$CK")
[ -n "$chk" ] || { fail "heap job: no checkpoint"; finish; exit 1; }
job=$(dirname "$chk")
bad=$job/chk-1000
write_crafted "$chk" "$bad" relative-to-absolute "$TMP/secret/passwd"
if [ -x /work/shared/tools/flink-oracle/flink-oracle ]; then
  checks=$((checks + 1))
  /work/shared/tools/flink-oracle/flink-oracle read "$bad/_metadata" >/dev/null 2>&1 || fail "flink-oracle rejects $bad/_metadata"
fi

expect_exit 1 -- "$CKPT" validate "$bad"
expect_out "F32 .*handle path file:$TMP/secret/passwd resolves outside the snapshot's root $CK"
expect_exit 2 -- "$CKPT" pack "$bad" "$TMP/bad.ckpt"
expect_err "^ckpt pack: $TMP/secret/passwd: resolves outside the snapshot's root \($CK\); pass --allow-outside DIR to read it$"
checks=$((checks + 1)); [ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "pack: more than one error line"
checks=$((checks + 1)); [ ! -e "$TMP/bad.ckpt" ] || fail "pack wrote an archive"
expect_exit 2 -- "$CKPT" convert "$bad" --self-contained "$TMP/bad-sc"
expect_err "^ckpt convert: $TMP/secret/passwd: resolves outside the snapshot's root"
checks=$((checks + 1)); [ ! -e "$TMP/bad-sc" ] || fail "convert wrote a directory"
checks=$((checks + 1)); [ "$(stat -c %h "$TMP/secret/passwd")" -eq 1 ] || fail "the outside file was hard-linked"
# The user names the directory: let through.
expect_exit 0 -- "$CKPT" validate --allow-outside "$TMP/secret" "$bad"
expect_exit 0 -- "$CKPT" pack --allow-outside "$TMP/secret" "$bad" "$TMP/bad.ckpt"
expect_exit 0 -- "$CKPT" convert "$bad" --self-contained "$TMP/bad-sc" --allow-outside "$TMP/secret" --copy
expect_exit 2 -- "$CKPT" convert "$chk" -o "$TMP/x/_metadata" --allow-outside "$TMP/secret"
expect_err "applies to --self-contained only"
rm -rf "$bad"

# --- RocksDB incremental: materialize, compact, and a symlinked shared/ ----------------------
CKR=$TMP/ckr
expect_exit 0 -- "$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o-rocks" --rate 20000 -D "state.checkpoints.dir=$CKR" "${SMALL[@]}" \
  -D state.backend.type=rocksdb -D state.backend.incremental=true -D "state.backend.rocksdb.localdir=$TMP"
chk=$(latest_checkpoint "$CKR")
[ -n "$chk" ] || { fail "RocksDB job: no checkpoint"; finish; exit 1; }
job=$(dirname "$chk")
mkdir -p "$TMP/elsewhere"
bad=$job/chk-1000
write_crafted "$chk" "$bad" shared-to "$TMP/elsewhere"
expect_exit 1 -- "$CKPT" validate "$bad"
expect_out "F32 .*resolves outside the snapshot's root $CKR"
expect_exit 2 -- "$CKPT" materialize "$bad" --uid counter --subtask 0 "$TMP/db"
expect_err "resolves outside the snapshot's root \($CKR\); pass --allow-outside DIR to read it"
checks=$((checks + 1)); [ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "materialize: more than one error line"
expect_exit 2 -- "$CKPT" compact "$bad" -o "$TMP/compacted"
expect_err "resolves outside the snapshot's root \($CKR\); pass --allow-outside DIR to read it \(and [0-9]+ more files outside\)$"
checks=$((checks + 1)); [ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "compact: more than one error line"
checks=$((checks + 1)); [ ! -e "$TMP/db" ] && [ ! -e "$TMP/compacted" ] || fail "materialize/compact wrote output"
expect_exit 0 -- "$CKPT" materialize "$bad" --uid counter --subtask 0 "$TMP/db" --allow-outside "$TMP/elsewhere"
expect_exit 0 -- "$CKPT" compact "$bad" -o "$TMP/compacted" --allow-outside "$TMP/elsewhere"
rm -rf "$bad" "$TMP/db" "$TMP/compacted"

# JOB/shared -> /elsewhere: only the last component was checked before.
mv "$job/shared" "$TMP/elsewhere/shared"
ln -s "$TMP/elsewhere/shared" "$job/shared"
expect_exit 1 -- "$CKPT" validate "$chk"
expect_out "F32 .*is not confined: .*$job/shared is a symbolic link \(not followed\)"
for cmd in "pack $chk $TMP/sym.ckpt" "convert $chk --self-contained $TMP/sym-sc" \
           "materialize $chk --uid counter --subtask 0 $TMP/sym-db" "compact $chk -o $TMP/sym-compacted"; do
  # shellcheck disable=SC2086
  expect_exit 2 -- "$CKPT" $cmd
  expect_err "$job/shared is a symbolic link \(not followed\)"
done
checks=$((checks + 1))
ls "$TMP"/sym* >/dev/null 2>&1 && fail "a command wrote output through the symlinked shared/"
rm "$job/shared"
mv "$TMP/elsewhere/shared" "$job/shared"
expect_exit 0 -- "$CKPT" pack "$chk" "$TMP/sym.ckpt"

# --- restore: committables naming another directory -------------------------------------------
CKS=$TMP/cks
"$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/outA" --rate 10000 -D "state.checkpoints.dir=$CKS" \
  -D execution.checkpointing.interval=50ms --keep-checkpoints >/dev/null 2>&1 &
pid=$!
wait_for_checkpoints "$CKS" 3 $pid
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
chk=$(latest_checkpoint "$CKS")
[ -n "$chk" ] || { fail "killed job: no checkpoint"; finish; exit 1; }
# The same checkpoint with its sink's directory renamed outA -> vict (same length: the state's
# offsets stay valid), and a victim directory holding files of the names the committables use.
crafted=$(dirname "$chk")/chk-1000
mkdir "$crafted"
for f in "$chk"/*; do [ "$(basename "$f")" = _metadata ] || ln "$f" "$crafted/"; done
LC_ALL=C sed 's|/outA|/vict|g' "$chk/_metadata" >"$crafted/_metadata"
mkdir -p "$TMP/vict"
for f in "$TMP"/outA/part-* "$TMP"/outA/.part-*.inprogress; do
  [ -e "$f" ] || continue
  n=$(basename "$f"); n=${n#.}; n=${n%.inprogress}
  echo "victim $n" >"$TMP/vict/.$n.inprogress"
done
ls -la "$TMP/vict" | md5sum >"$TMP/vict.before"
expect_exit 2 -- "$CKPT" restore "$crafted" -p 2 --output "$TMP/outA" -D "state.checkpoints.dir=$TMP/cks2"
expect_err "^ckpt restore: sink committable $TMP/vict/\.part-[^ ]*\.inprogress: lies outside the output directory $TMP/outA \(a restore renames files only there\); nothing committed$"
checks=$((checks + 1)); [ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "restore: more than one error line"
checks=$((checks + 1))
ls -la "$TMP/vict" | md5sum | cmp -s - "$TMP/vict.before" || fail "restore touched the victim directory"
checks=$((checks + 1)); [ ! -e "$TMP/cks2" ] || fail "the refused restore created its checkpoint directory"
# The genuine checkpoint restores (its committables are part files of outA).
expect_exit 0 -- "$CKPT" restore "$chk" -p 2 --output "$TMP/outA" -D "state.checkpoints.dir=$TMP/cks3"

finish
