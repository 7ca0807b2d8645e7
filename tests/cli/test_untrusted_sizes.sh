#!/usr/bin/env bash
# Numbers from a snapshot are untrusted: a handle recording 2^63-1 bytes (the largest int64, as a
# corrupt or crafted `_metadata` may hold) gives saturated figures in inspect and diff, passes
# through convert's export unchanged, and is one clear refusal line in convert --self-contained
# and pack (the file on disk is smaller). Built with the pipeline; no fixtures needed.
source "$(dirname "$0")/lib.sh"

MAX=9223372036854775807
CK=$TMP/ck
expect_exit 0 -- "$CKPT" run --generate 30000 --vocabulary 2000 --window 2s --seed 9 --rate 20000 -p 2 \
  --output "$TMP/o" -D "state.checkpoints.dir=$CK" -D state.storage.fs.memory-threshold=1kb \
  -D execution.checkpointing.interval=50ms --keep-checkpoints
chk=$(latest_checkpoint "$CK")
[ -n "$chk" ] || { fail "no checkpoint"; finish; exit 1; }
big=$(dirname "$chk")/chk-1000
write_crafted "$chk" "$big" size "$MAX"
if [ -x /work/shared/tools/flink-oracle/flink-oracle ]; then
  checks=$((checks + 1))
  /work/shared/tools/flink-oracle/flink-oracle read "$big/_metadata" >/dev/null 2>&1 || fail "flink-oracle rejects $big/_metadata"
fi

# inspect: the totals saturate at 2^63-1 bytes (8 EiB, shown as 8192.0 PiB).
expect_exit 0 -- "$CKPT" inspect "$big"
expect_out "8192\.0 PiB"
expect_exit 0 -- "$CKPT" inspect --json "$big"
expect_out ": ?$MAX[,}]"

# diff: the sums of files and the state delta saturate, both ways.
expect_exit 1 -- "$CKPT" diff "$chk" "$big"
expect_out "8192\.0 PiB +\+8192\.0 PiB"
expect_exit 1 -- "$CKPT" diff "$big" "$chk"
expect_out "8192\.0 PiB +[0-9.]+ [KM]iB +-8192\.0 PiB"
expect_exit 0 -- "$CKPT" diff "$big" "$big"
expect_exit 1 -- "$CKPT" diff --json "$chk" "$big"

# convert: the export carries the number as is; a self-contained copy and pack refuse it.
expect_exit 0 -- "$CKPT" convert "$big" --to json
expect_out "\"size\": ?$MAX[,}]"
expect_exit 1 -- "$CKPT" convert "$big" --self-contained "$TMP/sc"
expect_err "^ckpt convert: .*: cannot make the snapshot self-contained: .*: has [0-9]+ bytes, the handle records $MAX$"
checks=$((checks + 1)); [ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "convert: more than one error line"
expect_exit 1 -- "$CKPT" pack "$big" "$TMP/big.ckpt"
expect_err "^ckpt pack: .*: has [0-9]+ bytes, the handle records $MAX$"
checks=$((checks + 1)); [ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "pack: more than one error line"

# validate names the size problem (F23/F24), it does not add it up.
expect_exit 1 -- "$CKPT" validate "$big"
expect_out "the handle records $MAX"
finish
