#!/usr/bin/env bash
# The commands that write a snapshot or database directory, with their output in the local S3
# (s3rver behind the strict SigV4 proxy): convert --self-contained, compact and materialize build
# it in a private directory and upload it with `_metadata` last (ops/published_output.h). Each
# output in the store must equal the same command's local output, validate (--deep) there, and
# its `_metadata` must load in Flink (flink-oracle read); a prefix that holds objects is refused
# without --force and nothing is written; no message names the private directory.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../cli/lib.sh
. "$here/../cli/lib.sh" "$1" "$2"
# shellcheck source=lib_s3.sh
. "$here/lib_s3.sh"

s3_start
B=ckpt-write
s3_mb "$B" || fail "mb $B"

# --- a RocksDB incremental job, and its s3:// twin (handles relocated to s3://$B/ck) -----------
d=$TMP/local
"$CKPT" run --generate 60000 --vocabulary 500 -p 2 --keep-checkpoints --output "$d/out" \
  -D execution.checkpointing.interval=40ms -D "state.checkpoints.dir=$d/ck" -D state.checkpoints.num-retained=2 \
  -D state.backend.type=rocksdb -D state.backend.incremental=true -D "state.backend.rocksdb.localdir=$TMP/rdb" \
  -D state.storage.fs.memory-threshold=1kb \
  >"$TMP/run.log" 2>&1 || { fail "pipeline run"; cat "$TMP/run.log" >&2; }
job=$(basename "$(ls -d "$d"/ck/*/ | head -1)")
latest=$(latest_checkpoint "$d/ck")
latest_name=$(basename "$latest")
cp -r "$d/ck" "$TMP/s3copy"
expect_exit 0 -- "$CKPT" convert --relocate "$d/ck=s3://$B/ck" --in-place "$TMP/s3copy/$job"
s3_put_dir "$TMP/s3copy" "s3://$B/ck" || fail "upload"
remote="s3://$B/ck/$job/$latest_name"

# get_dir s3://B/PREFIX DIR: downloads every object under PREFIX/ into DIR.
get_dir() {
  rm -rf "$2"
  mkdir -p "$2"
  s3_aws s3 cp --recursive --only-show-errors "${1%/}/" "$2/" || fail "download of $1"
}
# no_private_dir: no output of the last command names a private directory under TMPDIR.
no_private_dir() {
  checks=$((checks + 1))
  if grep -qE "ckpt-(out|stage)-" "$TMP/out" "$TMP/err"; then
    fail "a message names the private directory: $(grep -hE "ckpt-(out|stage)-" "$TMP/out" "$TMP/err" | head -2)"
  fi
}
# refused_again URI CMD...: a second run into the filled prefix is refused (exit 2, one line naming
# the URI) and changes no object; --force then rewrites it.
refused_again() {
  local uri=$1
  shift
  s3_ls "$uri/" >"$TMP/keys.before"
  s3_aws s3api list-objects-v2 --bucket "$B" --prefix "${uri#s3://"$B"/}/" --query 'Contents[].[Key,ETag,LastModified]' \
    --output text >"$TMP/etags.before"
  expect_exit 2 -- "$@"
  expect_err "^ckpt [a-z]+: $uri: already holds objects \(--force replaces them\)$"
  checks=$((checks + 1))
  [ "$(wc -l <"$TMP/err")" = 1 ] || fail "refusal over $uri is not one line: $(cat "$TMP/err")"
  s3_aws s3api list-objects-v2 --bucket "$B" --prefix "${uri#s3://"$B"/}/" --query 'Contents[].[Key,ETag,LastModified]' \
    --output text | cmp -s - "$TMP/etags.before" || fail "a refused run into $uri changed its objects"
  checks=$((checks + 1))
  expect_exit 0 -- "$@" --force
  no_private_dir
  s3_ls "$uri/" | cmp -s - "$TMP/keys.before" || fail "--force into $uri wrote other keys"
  checks=$((checks + 1))
}

# --- convert --self-contained: from the store and from a local snapshot, into the store ---------
expect_exit 0 -- "$CKPT" convert "$remote" --self-contained "$TMP/sc"
expect_exit 0 -- "$CKPT" convert "$remote" --self-contained "s3://$B/out/sc" --dry-run
expect_out "would write .* into s3://$B/out/sc"
expect_out " s3://$B/ck/$job/shared/" # the sources, named as objects (not the staged copy)
no_private_dir
[ -z "$(s3_ls "s3://$B/out/")" ] || fail "convert --dry-run wrote into the store"
checks=$((checks + 1))
expect_exit 0 -- "$CKPT" convert "$remote" --self-contained "s3://$B/out/sc"
expect_out "wrote .* into s3://$B/out/sc"
expect_out "every handle resolves inside s3://$B/out/sc"
no_private_dir
[ "$(s3_ls "s3://$B/out/sc/" | tail -1)" != "" ] || fail "nothing uploaded to s3://$B/out/sc"
checks=$((checks + 1))
get_dir "s3://$B/out/sc" "$TMP/sc-dl"
cmp -s "$TMP/sc/_metadata" "$TMP/sc-dl/_metadata" || fail "convert --self-contained: the store's _metadata differs from the local run's"
diff -r "$TMP/sc" "$TMP/sc-dl" >/dev/null || fail "convert --self-contained: the store's objects differ from the local run's files"
checks=$((checks + 2))
expect_exit 0 -- "$CKPT" validate --deep "s3://$B/out/sc"
expect_out "valid \(0 errors, 0 warnings"
expect_exit 0 -- "$CKPT" diff "$TMP/sc" "s3://$B/out/sc"
expect_out "equal"
oracle_read "$TMP/sc-dl/_metadata"
refused_again "s3://$B/out/sc" "$CKPT" convert "$remote" --self-contained "s3://$B/out/sc"
# A local input (absolute handles into the job's directory) into the store: relative handles there.
expect_exit 0 -- "$CKPT" convert "$latest" --self-contained "s3a://$B/out/sc-local"
get_dir "s3://$B/out/sc-local" "$TMP/sc-local-dl"
expect_exit 0 -- "$CKPT" validate --deep "s3://$B/out/sc-local"
expect_exit 0 -- "$CKPT" diff "$TMP/sc" "s3://$B/out/sc-local"
expect_out "equal"
oracle_read "$TMP/sc-local-dl/_metadata"
# -o of an export into the store: one object, the same bytes as locally; a second time refused
# without --force. A _metadata alone (--to flink) is refused with one line, nothing written.
expect_exit 0 -- "$CKPT" convert "$remote" --to json -o "$TMP/export.json"
expect_exit 0 -- "$CKPT" convert "$remote" --to json -o "s3://$B/out/export.json" --dry-run
expect_out "would write s3://$B/out/export.json"
expect_exit 0 -- "$CKPT" convert "$remote" --to json -o "s3://$B/out/export.json"
expect_out "wrote s3://$B/out/export.json"
s3_aws s3 cp --only-show-errors "s3://$B/out/export.json" "$TMP/export-dl.json" || fail "download the export"
checks=$((checks + 1))
cmp -s "$TMP/export.json" "$TMP/export-dl.json" || fail "convert -o s3://: the object differs from the local export"
expect_exit 2 -- "$CKPT" convert "$remote" --to json -o "s3://$B/out/export.json"
expect_err "s3://$B/out/export.json: already exists \(--force replaces it\)"
expect_exit 0 -- "$CKPT" convert "$remote" --to proto -o "s3://$B/out/export.json" --force
expect_exit 2 -- "$CKPT" convert "$remote" -o "s3://$B/out/meta/_metadata"
expect_err "s3://$B/out/meta/_metadata: -o writes a _metadata alone.*--self-contained"
[ -z "$(s3_ls "s3://$B/out/meta/")" ] || fail "convert -o --to flink wrote into the store"
checks=$((checks + 1))

# --- compact ------------------------------------------------------------------------------------
expect_exit 0 -- "$CKPT" compact "$remote" --output "$TMP/compacted"
expect_exit 0 -- "$CKPT" compact "$remote" -o "s3://$B/out/compacted" -D s3.multipart.size=5mb
expect_out "verified: every column family"
expect_out "wrote s3://$B/out/compacted "
no_private_dir
expect_exit 0 -- "$CKPT" compact --json "$remote" -o "s3://$B/out/compacted-json"
no_private_dir
get_dir "s3://$B/out/compacted" "$TMP/compacted-dl"
expect_exit 0 -- "$CKPT" validate --deep "s3://$B/out/compacted"
expect_out "valid \(0 errors, 0 warnings"
# Compaction writes new table files and handle ids: the state is the same, the names are not.
expect_exit 0 -- "$CKPT" diff "$TMP/compacted" "s3://$B/out/compacted"
expect_out "equal"
oracle_read "$TMP/compacted-dl/_metadata"
refused_again "s3://$B/out/compacted" "$CKPT" compact "$remote" -o "s3://$B/out/compacted"

# --- materialize: a database directory (no _metadata) -------------------------------------------
op=$("$CKPT" inspect --json "$remote" | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(next(o["id"] for o in d["summary"]["operators"] if int(o.get("bytes", {}).get("keyed", 0)) > 0))')
expect_exit 0 -- "$CKPT" materialize "$remote" "$TMP/db" --operator "$op" --subtask 0
expect_exit 0 -- "$CKPT" materialize "$remote" "s3://$B/out/db" --operator "$op" --subtask 0
expect_out "materialized .* into s3://$B/out/db"
no_private_dir
get_dir "s3://$B/out/db" "$TMP/db-dl"
[ -f "$TMP/db-dl/CURRENT" ] || fail "materialize into the store uploaded no CURRENT"
diff -r "$TMP/db" "$TMP/db-dl" >/dev/null || fail "materialize: the store's objects differ from the local run's files"
checks=$((checks + 2))
expect_exit 0 -- "$CKPT" materialize --json "$remote" "s3://$B/out/db-json" --operator "$op" --subtask 0
no_private_dir
grep -q "\"s3://$B/ck/$job/$latest_name" "$TMP/out" || fail "materialize --json does not name the input's URI"
checks=$((checks + 1))
refused_again "s3://$B/out/db" "$CKPT" materialize "$remote" "s3://$B/out/db" --operator "$op" --subtask 0

# --- nothing left behind, and no error names a private directory --------------------------------
expect_exit 2 -- env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
  AWS_CONFIG_FILE=/nonexistent "$CKPT" compact "$latest" -o "s3://$B/out/nocreds"
expect_err "no credentials found"
expect_exit 2 -- "$CKPT" compact "$latest" -o "s3://no-such-bucket/x"
expect_err "s3://no-such-bucket/x/: .*HTTP 404 NoSuchBucket"
no_private_dir
ls -d "${TMPDIR:-/tmp}"/ckpt-out-* "${TMPDIR:-/tmp}"/ckpt-stage-* >/dev/null 2>&1 && fail "a private directory was left behind"
checks=$((checks + 1))

finish
