#!/usr/bin/env bash
# Bytes after the last structure Flink reads (here: after the properties trailer of checkpoints
# the bundled pipeline wrote). Flink ignores them and restores such a snapshot, so ckpt must not
# be stricter: inspect, prune, gc, convert and restore work; validate passes with a warning (S12);
# a rewrite keeps the bytes.
source "$(dirname "$0")/lib.sh"

EXTRA='\xde\xad\xbe\xef\x00\x00\x00\x08'
expect_exit 0 -- "$CKPT" run --generate 50000 -p 2 --rate 20000 --output "$TMP/sink" --keep-checkpoints \
  -D execution.checkpointing.interval=100ms -D "state.checkpoints.dir=$TMP/ck" -D state.checkpoints.num-retained=3
job=$(ls "$TMP/ck")
chks=("$TMP"/ck/"$job"/chk-*)
checks=$((checks + 1))
[ "${#chks[@]}" -ge 2 ] || fail "expected at least 2 retained checkpoints, found ${#chks[@]}"
for c in "${chks[@]}"; do printf "$EXTRA" >>"$c/_metadata"; done
latest=$(latest_checkpoint "$TMP/ck")

expect_exit 0 -- "$CKPT" inspect "$latest"
expect_out "^checkpoint +${latest##*/chk-}$"
expect_exit 0 -- "$CKPT" inspect "$TMP/ck"
expect_exit 0 -- "$CKPT" validate "$latest"
expect_out "^warning +S12 +- +8 bytes follow the checkpoint properties trailer, expected end of file"
expect_out "valid \(0 errors, 1 warnings"
expect_exit 0 -- "$CKPT" validate --json "$latest"
expect_out '"rule":"S12"'

# A rewrite keeps them: convert writes the same bytes back; JSON carries them.
mkdir -p "$TMP/copy"
expect_exit 0 -- "$CKPT" convert --keep-relative "$latest" -o "$TMP/copy/_metadata"
checks=$((checks + 1))
cmp -s "$latest/_metadata" "$TMP/copy/_metadata" || fail "convert did not write the _metadata back byte for byte"
# Flink loads it and ignores the extra bytes; its writer would drop them (roundtrip: "differs ...
# length mismatch; content-equal"), which is why ckpt keeps them deliberately: read only.
oracle_read "$TMP/copy/_metadata"
expect_exit 0 -- "$CKPT" convert --to json "$latest"
expect_out '"trailing":"3q2\+7wAAAAg="'

# Restore from it (the final checkpoint of a finished job: nothing left to read).
expect_exit 0 -- "$CKPT" restore "$latest" -D "state.checkpoints.dir=$TMP/ck-restored"

# prune and gc plan and apply over such snapshots.
expect_exit 0 -- "$CKPT" gc --grace 0 "$TMP/ck"
expect_exit 0 -- "$CKPT" prune --retain 1 --grace 0 "$TMP/ck"
expect_out "keep +retain"
checks=$((checks + 1))
left=("$TMP"/ck/"$job"/chk-*)
[ "${#left[@]}" = 1 ] && [ "${left[0]}" = "$latest" ] || fail "prune --retain 1 left ${left[*]}"
expect_exit 0 -- "$CKPT" validate "$latest"

finish
