#!/usr/bin/env bash
# `file:` URIs are local paths everywhere (configuration values, command-line paths, handle paths
# inside _metadata); a file system ckpt cannot reach (s3://, hdfs://, ...) is refused with one
# line naming the scheme (exit 2), and nothing named after the scheme is ever created.
source "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/cwd"
cd "$TMP/cwd" || exit 1
case $CKPT in /*) ;; *) CKPT=$OLDPWD/$CKPT ;; esac

# The bundled pipeline writes into a file:// checkpoint directory.
expect_exit 0 -- "$CKPT" run --generate 30000 -p 2 --rate 20000 --output "file://$TMP/sink" --keep-checkpoints \
  -D execution.checkpointing.interval=100ms -D "state.checkpoints.dir=file://$TMP/ck" -D state.checkpoints.num-retained=3
expect_out "job dir +$TMP/ck/[0-9a-f]{32}$"
checks=$((checks + 1))
[ -z "$(ls -A "$TMP/cwd")" ] || fail "ckpt run created in the working directory: $(ls -A "$TMP/cwd")"
latest=$(latest_checkpoint "$TMP/ck")
checks=$((checks + 1))
[ -n "$latest" ] || fail "no checkpoint under $TMP/ck"
first=$(ls -d "$TMP"/ck/*/chk-* | sort -V | head -n 1)

# Every form of file: URI on the command line.
expect_exit 0 -- "$CKPT" inspect "file://$latest"
expect_out "^snapshot +$latest/_metadata$"
expect_exit 0 -- "$CKPT" inspect "file:$latest/_metadata"
expect_exit 0 -- "$CKPT" inspect "file://localhost$TMP/ck"
expect_exit 0 -- "$CKPT" validate "file://$latest"
expect_out "valid \(0 errors"
expect_exit 0 -- "$CKPT" validate "file://localhost$TMP/ck"
expect_exit 1 -- "$CKPT" diff "file:$first" "file://$latest"  # 1: they differ
expect_out "checkpoint id"
expect_exit 0 -- "$CKPT" prune --dry-run --retain 1 --grace 0 "file://$TMP/ck"
expect_exit 0 -- "$CKPT" gc --dry-run --grace 0 "file:$TMP/ck"
mkdir -p "$TMP/copy"
expect_exit 0 -- "$CKPT" convert --keep-relative "file://$latest" -o "file://$TMP/copy/_metadata"
checks=$((checks + 1))
cmp -s "$latest/_metadata" "$TMP/copy/_metadata" || fail "convert through file: URIs changed the _metadata"
oracle_roundtrip "$latest/_metadata" "$TMP/copy/_metadata"
expect_exit 0 -- "$CKPT" restore "file://$latest" -D "state.checkpoints.dir=file:$TMP/ck-restored"

# Handle paths inside _metadata in all three file: forms (absolute handles, as Flink writes them
# when state files are not beside _metadata).
for form in "file:" "file://" "file://localhost"; do
  rm -rf "$TMP/abs"
  mkdir -p "$TMP/abs"
  expect_exit 0 -- "$CKPT" convert --relocate "$latest=$form$latest" "$latest" -o "$TMP/abs/_metadata"
  expect_exit 0 -- "$CKPT" convert --to json "$TMP/abs"
  expect_out "\"path\":\"$form$latest/"
  # The files are outside the new _metadata's own directory: validate reads them when told to.
  expect_exit 1 -- "$CKPT" validate "$TMP/abs"
  expect_out "F32 .*resolves outside the snapshot's root"
  expect_exit 0 -- "$CKPT" validate --allow-outside "$latest" "$TMP/abs"
  expect_out "valid \(0 errors.* ([1-9][0-9]*) of \1 files checked"
  # Flink loads every form. Its writer prints file:///x as file:/x (org.apache.flink.core.fs.Path
  # drops an empty authority), so the file:// form, made here on purpose, is checked by reading.
  if [ "$form" = "file://" ]; then oracle_read "$TMP/abs/_metadata"; else oracle_roundtrip "$TMP/abs/_metadata"; fi
done

# Unreachable schemes in the configuration: refused before anything is created. (s3://, s3a://,
# gs:// are object stores the pipeline writes to: tests/s3.)
for key in state.checkpoints.dir execution.checkpointing.dir state.savepoints.dir; do
  for uri in hdfs://nn:8020/ck abfss://c@a.dfs.core.windows.net/ck oss://b/ck viewfs://c/ck; do
    scheme=${uri%%:*}
    expect_exit 2 -- "$CKPT" run --generate 10 -D execution.checkpointing.interval=1s -D "$key=$uri"
    expect_err "^ckpt run: invalid value '$uri' for key '$key': scheme \"$scheme\" is not supported yet \(expected a local path or a file: URI\)$"
  done
done
expect_exit 2 -- "$CKPT" run --generate 10 -D state.backend.type=rocksdb -D state.backend.rocksdb.localdir=wasbs://c@a/x
expect_err "scheme \"wasbs\" is not supported yet"
expect_exit 2 -- "$CKPT" run --generate 10 -D "taskmanager.state.local.root-dirs=$TMP/l1,s3p://b/l"
expect_err "scheme \"s3p\" is not supported yet"
checks=$((checks + 1))
[ -z "$(ls -A "$TMP/cwd")" ] || fail "a refused run created in the working directory: $(ls -A "$TMP/cwd")"

# Unreachable schemes on the command line: exit 2, one line; with --map the line says how.
# Object stores are reachable (tests/s3 runs them against a server); without credentials they
# are refused in one line naming where ckpt looked, before any request.
nocreds=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE=/nonexistent
         AWS_CONFIG_FILE=/nonexistent)
expect_exit 2 -- "${nocreds[@]}" "$CKPT" inspect s3://bucket/flink/ck
expect_err "^ckpt inspect: s3://: no credentials found: looked at .*AWS_ACCESS_KEY_ID"
expect_exit 2 -- "$CKPT" validate hdfs://nn:8020/flink/ck
expect_err "^ckpt validate: hdfs://nn:8020/flink/ck: scheme \"hdfs\" is not supported yet \(expected a local path or a file: URI\); to read a local copy of it, add --map hdfs://nn:8020=DIR$"
expect_exit 2 -- "${nocreds[@]}" "$CKPT" prune --retain 1 gs://b/ck
expect_err "^ckpt prune: gs://: no credentials found"
expect_exit 2 -- "${nocreds[@]}" "$CKPT" gc s3a://b/ck
expect_err "^ckpt gc: s3a://: no credentials found"
expect_exit 2 -- "$CKPT" diff "$latest" oss://b/ck/chk-1
expect_err "^ckpt diff: oss://b/ck/chk-1: scheme \"oss\""
expect_exit 2 -- "$CKPT" convert "$latest" -o s3://b/out/_metadata
expect_err "^ckpt convert: s3://b/out/_metadata: -o writes a _metadata alone, whose state files would not be beside it in the store; use --self-contained s3://b/out/_metadata"
expect_exit 2 -- "${nocreds[@]}" "$CKPT" compact "$latest" -o s3://b/out
expect_err "^ckpt compact: s3://: no credentials found"
expect_exit 2 -- "${nocreds[@]}" "$CKPT" convert "$latest" --self-contained gs://b/out
expect_err "^ckpt convert: gs://: no credentials found"
expect_exit 2 -- "$CKPT" pack "$latest" abfs://c@a/x.ckpt
expect_err "^ckpt pack: abfs://c@a/x.ckpt: scheme \"abfs\""
expect_exit 2 -- env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
  AWS_CONFIG_FILE=/nonexistent "$CKPT" restore s3://b/ck/chk-1
expect_err "^ckpt restore: s3://: no credentials found"
expect_exit 2 -- "$CKPT" run --generate 10 --output viewfs://c/out
expect_err "^ckpt run: viewfs://c/out: scheme \"viewfs\""
expect_exit 2 -- "$CKPT" inspect "file://otherhost$latest"
expect_err "a file: URI of host \"otherhost\""
checks=$((checks + 1))
[ -z "$(ls -A "$TMP/cwd")" ] || fail "a refused command created in the working directory: $(ls -A "$TMP/cwd")"

# A --map for the prefix reaches it: the command-line path goes through the mapping too.
expect_exit 0 -- "$CKPT" validate --map "s3://bucket/flink=$TMP/ck" "s3://bucket/flink/${latest#"$TMP/ck/"}"
expect_out "valid \(0 errors"

finish
