#!/usr/bin/env bash
# prune and gc never destroy a file a snapshot still needs, on situations the bundled pipeline
# makes (no fixture needed):
#   * a moved job directory: recognised, nothing deleted, the suggested command fixes it;
#   * a copied directory with fresh times, and a `touch`ed `_metadata`: count rules rank by id;
#   * a kept snapshot missing a file: nothing deleted (fail closed), --allow-missing spares namesakes;
#   * a live job: a grace shorter than its checkpoint timeout is refused; with a safe grace, prune
#     and gc in a loop never report a false alarm, and every kept checkpoint validates and restores.
source "$(dirname "$0")/lib.sh"

listing() { (cd "$1" && find . -type f | sort); }

# One RocksDB incremental job with its retained checkpoints kept.
run_job() {  # run_job CKDIR OUT [extra args]
  "$CKPT" run --generate 200000 -p 2 --output "$2" -D state.backend.type=rocksdb \
    -D execution.checkpointing.incremental=true -D execution.checkpointing.interval=50ms \
    -D state.checkpoints.dir="$1" -D state.checkpoints.num-retained=3 --rate 100000 --keep-checkpoints "${@:3}" \
    >"$TMP/run.out" 2>"$TMP/run.err" || fail "ckpt run: $(tail -2 "$TMP/run.err")"
}

# --- 1. A moved job directory.
run_job "$TMP/ck" "$TMP/out1"
mkdir -p "$TMP/moved"
mv "$TMP/ck" "$TMP/moved/ck2"
JOB=$(ls -d "$TMP"/moved/ck2/*)
before=$(listing "$JOB")
expect_exit 1 -- "$CKPT" gc --grace 0s --dry-run "$JOB"
expect_out "MISSING OR SHORT"
expect_err "moved: kept checkpoints reference [0-9]+ files under $TMP/ck that sit under $TMP/moved/ck2"
expect_err "Fix the references: ckpt convert --relocate $TMP/ck=$TMP/moved/ck2 --in-place $JOB"
expect_exit 1 -- "$CKPT" gc --grace 0s "$JOB"
[ "$(listing "$JOB")" = "$before" ] || fail "gc deleted files of a moved job directory"
expect_exit 1 -- "$CKPT" gc --grace 0s --allow-missing "$JOB"
[ "$(listing "$JOB")" = "$before" ] || fail "gc --allow-missing deleted files a moved reference names"
expect_exit 1 -- "$CKPT" prune --retain 1 --grace 0s "$JOB"
[ "$(listing "$JOB")" = "$before" ] || fail "prune deleted files although kept snapshots miss files"
# The fix, exactly as suggested; then validate passes and gc finds nothing to collect.
fix=$(sed -n 's/.*Fix the references: //p' "$TMP/err" | head -1)
[ -n "$fix" ] || fail "no fix suggested"
expect_exit 0 -- ${fix/ckpt/$CKPT}
expect_out "snapshots rewritten, 0 without matching paths, 0 failed"
oracle_roundtrip "$JOB"/chk-*/_metadata
expect_exit 0 -- ${fix/ckpt/$CKPT}
expect_out "^0 snapshots rewritten"
expect_exit 0 -- "$CKPT" validate --deep "$JOB"
expect_exit 0 -- "$CKPT" gc --grace 0s --dry-run "$JOB"
expect_out "Would delete 0 files and 0 directories"
expect_exit 2 -- "$CKPT" convert --relocate /a=/b --in-place "$JOB" --to json
expect_exit 2 -- "$CKPT" convert --in-place "$JOB"
expect_err "--in-place needs --relocate"

# --- 2. A copy without times (cp without -p, an object-store sync), and a `touch`.
run_job "$TMP/orig" "$TMP/out2"
cp -r "$TMP/orig" "$TMP/copy"
CJOB=$(ls -d "$TMP"/copy/*)
ids=$(ls "$CJOB" | sed -n 's/^chk-//p' | sort -n)
high=$(echo "$ids" | tail -1)
low=$(echo "$ids" | head -1)
# Times from the copy, and the lowest id looks the newest.
touch -d '-2 hours' "$CJOB"/chk-*/_metadata
touch -d '-1 hour' "$CJOB/chk-$low/_metadata"
cbefore=$(listing "$CJOB/shared")
expect_exit 0 -- "$CKPT" gc --grace 0s "$CJOB"
[ "$(listing "$CJOB/shared")" = "$cbefore" ] || fail "gc of a copied job deleted shared files its checkpoints use"
expect_err "moved: .* the originals still exist"
expect_exit 0 -- "$CKPT" prune --retain 1 --grace 0s --dry-run --json "$CJOB"
expect_err "checkpoint times contradict their ids \(chk-[0-9]+ is older than chk-$low\)"
kept=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(str(s["checkpointId"]) for s in d["snapshots"] if s.get("keep")))' "$TMP/out")
[ "$kept" = "$high" ] || fail "prune --retain 1 kept '$kept', expected the highest id $high"
# A time rule that keeps the touched lowest id keeps every higher id too.
expect_exit 0 -- "$CKPT" prune --keep-within 1m --grace 0s --dry-run --json "$CJOB"
pruned=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for s in d["snapshots"] if not s.get("keep")))' "$TMP/out")
[ "$pruned" = 0 ] || fail "--keep-within pruned a checkpoint above a kept lower id"
expect_out '"newer-than-kept"'

# --- 3. A kept checkpoint misses a file: nothing deleted; --allow-missing spares its namesake.
MJOB=$(ls -d "$TMP"/orig/*)
victim=$("$CKPT" inspect --files "$MJOB/chk-$high" | awk '$1 ~ /\/shared\// { print $1 }' | head -1)
victim=${victim##*/}
[ -n "$victim" ] || fail "chk-$high references no shared file"
mv "$MJOB/shared/$victim" "$MJOB/taskowned/$victim"
mbefore=$(listing "$MJOB")
expect_exit 1 -- "$CKPT" prune --retain 1 --grace 0s "$MJOB"
expect_out "Nothing deleted: kept snapshots miss"
[ "$(listing "$MJOB")" = "$mbefore" ] || fail "prune deleted files although a kept checkpoint misses one"
expect_exit 1 -- "$CKPT" prune --retain 1 --grace 0s --allow-missing "$MJOB"
[ -f "$MJOB/taskowned/$victim" ] || fail "--allow-missing deleted a file named like a missing reference"
[ "$(ls "$MJOB" | grep -c '^chk-')" -lt "$(echo "$ids" | wc -l)" ] || fail "--allow-missing deleted nothing"

# --- 4. A live job.
LIVE=$TMP/live
"$CKPT" run --generate 400000 -p 2 --output "$TMP/out4" -D state.backend.type=rocksdb \
  -D execution.checkpointing.incremental=true -D execution.checkpointing.interval=100ms \
  -D execution.checkpointing.timeout=2s -D state.checkpoints.dir="$LIVE" -D state.checkpoints.num-retained=2 \
  --rate 20000 >"$TMP/live.out" 2>"$TMP/live.err" &
pid=$!
wait_for_checkpoints "$LIVE" 3 $pid
LJOB=$(ls -d "$LIVE"/*)
expect_exit 2 -- "$CKPT" gc --grace 0s "$LJOB"
expect_err "a running job \(pid $pid\) holds this job directory, and --grace 0s is shorter than its checkpoint timeout.*--grace 2s"
expect_exit 2 -- "$CKPT" convert --relocate /a=/b --in-place "$LJOB"
expect_err "a running job holds this job directory"
alarms=0
for i in $(seq 1 25); do
  "$CKPT" prune --retain 1 --grace 2s "$LJOB" >"$TMP/p.out" 2>"$TMP/p.err" || { alarms=$((alarms + 1)); sed 's/^/  prune: /' "$TMP/p.err" | head -3 >&2; }
  "$CKPT" gc --grace 2s "$LJOB" >"$TMP/g.out" 2>"$TMP/g.err" || { alarms=$((alarms + 1)); sed 's/^/  gc: /' "$TMP/g.err" | head -3 >&2; }
done
checks=$((checks + 1))
[ "$alarms" = 0 ] || fail "$alarms of 50 prune/gc runs against a live job exited non-zero"
# A failure, then a restore from the newest checkpoint the loop kept.
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
latest=$(latest_checkpoint "$LIVE")
for m in "$LJOB"/chk-*/_metadata; do expect_exit 0 -- "$CKPT" validate --deep "$(dirname "$m")"; done
# The killed job's lock file stays, but nobody holds it: no refusal.
expect_exit 0 -- "$CKPT" gc --grace 0s --dry-run "$LJOB"
expect_exit 0 -- "$CKPT" restore "$latest" --rate 0 -D state.backend.type=rocksdb

finish
