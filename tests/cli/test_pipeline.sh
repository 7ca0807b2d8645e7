#!/usr/bin/env bash
# The bundled pipeline end to end: rescaling, retention, storage limits, at-least-once,
# savepoints (command, SIGTERM), in-run restarts, claim modes, configuration errors.
source "$(dirname "$0")/lib.sh"

JOB=(--generate 60000 --vocabulary 3000 --window 2s --events-per-second 20000 --seed 3)
KEEP=(-D execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION --keep-checkpoints)

expect_exit 0 -- "$CKPT" run "${JOB[@]}" -p 1 --output "$TMP/ref"
sort "$TMP"/ref/part-* >"$TMP/ref.sorted"

same_output() {  # same_output DIR LABEL
  checks=$((checks + 1))
  sort "$1"/part-* >"$TMP/got.sorted"
  cmp -s "$TMP/ref.sorted" "$TMP/got.sorted" || fail "$2: committed output differs from the failure-free run"
}


# --- a finished job: checkpoints on disk, readable by inspect and validate --------------------
CK=$TMP/ck1
expect_exit 0 -- "$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o1" -D execution.checkpointing.interval=50ms --rate 20000 \
  -D "state.checkpoints.dir=$CK" -D state.checkpoints.num-retained=3 "${KEEP[@]}" -D state.storage.fs.memory-threshold=0
expect_out "status +FINISHED"
same_output "$TMP/o1" "P=2 with checkpoints"
checks=$((checks + 1))
completed=$(sed -n 's/^checkpoints *\([0-9]*\) completed.*/\1/p' "$TMP/out")
[ "${completed:-0}" -gt 3 ] || fail "expected more than 3 completed checkpoints, got ${completed:-none}"
n=$(ls -d "$CK"/*/chk-* | wc -l)
[ "$n" -eq 3 ] || fail "num-retained=3 left $n chk-* directories after $completed checkpoints"
for d in "$CK"/*/chk-*; do
  expect_exit 0 -- "$CKPT" validate "$d"
  expect_exit 0 -- "$CKPT" inspect "$d"
  expect_out "version 6"
  expect_out "^[0-9a-f]{32}  counter \(Keyed count per word\) "
done
# Flink loads each and writes it back byte for byte.
oracle_roundtrip "$CK"/*/chk-*/_metadata
expect_exit 0 -- "$CKPT" inspect "$CK"
[ -d "$CK"/*/shared ] || fail "no shared/ directory in the job directory"

# Flink discards retained checkpoints when a job finishes (without --keep-checkpoints).
expect_exit 0 -- "$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o1b" -D execution.checkpointing.interval=50ms \
  -D "state.checkpoints.dir=$TMP/ck1b" -D execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION
checks=$((checks + 1))
[ -z "$(ls -d "$TMP"/ck1b/*/chk-* 2>/dev/null)" ] || fail "checkpoints of a FINISHED job were not discarded"

# --- rescale 2 -> 4 -> 1 -------------------------------------------------------------------
CK=$TMP/ck2
OPTS=(-D execution.checkpointing.interval=40ms -D "state.checkpoints.dir=$CK" "${KEEP[@]}")
"$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o2" --rate 15000 "${OPTS[@]}" >/dev/null 2>&1 &
pid=$!; wait_for_checkpoints "$CK" 3 $pid; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
from=$(latest_checkpoint "$CK")
[ -n "$from" ] || fail "rescale: no checkpoint"
"$CKPT" restore "$from" -p 4 --rate 8000 "${OPTS[@]}" >/dev/null 2>&1 &
pid=$!; wait_for_checkpoints "$CK" 3 $pid; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
from2=$(latest_checkpoint "$CK")
expect_exit 0 -- "$CKPT" inspect "$from2"
expect_out "4/128"
oracle_roundtrip "$from2/_metadata"
expect_exit 0 -- "$CKPT" restore "$from2" -p 1 "${OPTS[@]}"
same_output "$TMP/o2" "rescale 2 -> 4 -> 1"
# No-claim (default) never touches the snapshot it restored from.
checks=$((checks + 1))
[ -f "$from/_metadata" ] || fail "NO_CLAIM restore deleted $from"

# --- older _metadata versions for older Flink: 4 (--format-version) and 5 (the config key) --------
# A job killed mid-run and restored from its version 4 checkpoint, rescaled, with 5: same output.
CK=$TMP/ck-v4
OPTS4=(-D execution.checkpointing.interval=40ms -D "state.checkpoints.dir=$CK" "${KEEP[@]}")
"$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o-v4" --rate 15000 --format-version 4 "${OPTS4[@]}" >/dev/null 2>&1 &
pid=$!; wait_for_checkpoints "$CK" 2 $pid; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
from4=$(latest_checkpoint "$CK")
expect_exit 0 -- "$CKPT" inspect "$from4"
expect_out "^format +version 4 "
expect_out "^[0-9a-f]{32}  - "
oracle_roundtrip "$from4/_metadata"
expect_exit 0 -- "$CKPT" restore "$from4" -p 3 --rate 15000 -D ckpt.metadata.format-version=5 "${OPTS4[@]}"
same_output "$TMP/o-v4" "restored from version 4, written as version 5"
from5=$(latest_checkpoint "$CK")
expect_exit 0 -- "$CKPT" inspect "$from5"
expect_out "^format +version 5 "
expect_out "^[0-9a-f]{32}  windows \\(Window"
oracle_roundtrip "$from5/_metadata"
expect_exit 2 -- "$CKPT" run "${JOB[@]}" --format-version 3 --output "$TMP/o-v3"
expect_err "format-version"

# Restoring from a job directory means its latest checkpoint.
expect_exit 0 -- "$CKPT" restore "$(dirname "$from2")" -p 2 --output "$TMP/o2b" "${OPTS[@]}"
expect_out "restored +.*chk-"

# --- CLAIM mode: the restored checkpoint becomes the new job's and is subsumed ---------------
CK=$TMP/ck3
OPTS=(-D execution.checkpointing.interval=40ms -D "state.checkpoints.dir=$CK" "${KEEP[@]}")
"$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o3" --rate 15000 "${OPTS[@]}" >/dev/null 2>&1 &
pid=$!; wait_for_checkpoints "$CK" 3 $pid; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
from=$(latest_checkpoint "$CK")
expect_exit 0 -- "$CKPT" restore "$from" --claim -p 2 "${OPTS[@]}"
checks=$((checks + 1))
[ ! -e "$from/_metadata" ] || fail "CLAIM restore kept the subsumed checkpoint $from"
same_output "$TMP/o3" "claim restore"
# The same, Flink's way: run -s, the claim mode under its deprecated key.
OPTS=(-D execution.checkpointing.interval=40ms -D "state.checkpoints.dir=$TMP/ck3b" "${KEEP[@]}")
"$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o3b" --rate 15000 "${OPTS[@]}" >/dev/null 2>&1 &
pid=$!; wait_for_checkpoints "$TMP/ck3b" 3 $pid; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
from=$(latest_checkpoint "$TMP/ck3b")
expect_exit 0 -- "$CKPT" run -s "$from" -p 2 -D execution.savepoint-restore-mode=CLAIM "${OPTS[@]}"
checks=$((checks + 1))
[ ! -e "$from/_metadata" ] || fail "CLAIM restore (run -s, execution.savepoint-restore-mode) kept $from"
same_output "$TMP/o3b" "claim restore by run -s"

# --- at-least-once: everything, plus only duplicates -------------------------------------------
CK=$TMP/ck4
OPTS=(-D execution.checkpointing.interval=30ms -D "state.checkpoints.dir=$CK" -D execution.checkpointing.mode=AT_LEAST_ONCE "${KEEP[@]}")
"$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o4" --rate 15000 "${OPTS[@]}" >/dev/null 2>&1 &
pid=$!; wait_for_checkpoints "$CK" 3 $pid; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
from=$(latest_checkpoint "$CK")
expect_exit 0 -- "$CKPT" restore "$from" -p 2 "${OPTS[@]}"
# A record processed twice counts twice, so every count of the failure-free run must be
# reached (same key: type, word, window) and may be exceeded; no key may be missing.
checks=$((checks + 1))
lost=$(awk -F'\t' '
  function key() { return $1 FS $2 FS (($1 == "W") ? $3 FS $4 : ($1 == "C" ? $3 : "")) }
  function val() { return ($1 == "W") ? $5 : $3 }
  FNR == NR { want[key()] = val(); next }
  { k = key(); if (!(k in got) || val() + 0 > got[k] + 0) got[k] = val() }
  END { n = 0; for (k in want) if (!(k in got) || got[k] + 0 < want[k] + 0) n++; print n }' "$TMP/ref.sorted" "$TMP"/o4/part-*)
[ "$lost" -eq 0 ] || fail "at-least-once lost $lost results"

# --- jobmanager storage: a state over the max size fails the checkpoint ------------------------
# (restart-strategy.type=none: with checkpointing on, Flink's default strategy would restart the
# job without end, as Flink does.)
JM=(-D state.checkpoint-storage=jobmanager -D "state.checkpoints.dir=$TMP/ck5" -D execution.checkpointing.interval=50ms
    -D ckpt.jobmanager.max-state-size=20kb -D restart-strategy.type=none)
expect_exit 1 -- "$CKPT" run "${JOB[@]}" -p 1 --output "$TMP/o5" "${JM[@]}"
expect_out "status +FAILED"
expect_out "tolerable failure threshold"
expect_out "jobmanager checkpoint storage allows at most"
expect_exit 1 -- "$CKPT" run "${JOB[@]}" -p 1 --output "$TMP/o5b" "${JM[@]}" \
  -D execution.checkpointing.tolerable-failed-checkpoints=2 --json
checks=$((checks + 1))
[ "$(grep -oE '"error": ?"[^"]' "$TMP/out" | wc -l)" -eq 3 ] || fail "tolerable-failed-checkpoints=2: expected 3 failed checkpoints"
# The 5 MB default lets small states through, all inline in _metadata.
expect_exit 0 -- "$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o5c" -D state.checkpoint-storage=jobmanager \
  -D "state.checkpoints.dir=$TMP/ck5c" -D execution.checkpointing.interval=50ms "${KEEP[@]}"
for d in "$TMP"/ck5c/*/chk-*; do
  expect_exit 0 -- "$CKPT" inspect "$d"
  expect_out "; 0 files"
done
oracle_roundtrip "$TMP"/ck5c/*/chk-*/_metadata

# --- in-run recovery: fixed-delay restart after an injected failure -----------------------------
expect_exit 0 -- "$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o6" -D execution.checkpointing.interval=30ms \
  -D "state.checkpoints.dir=$TMP/ck6" -D restart-strategy.type=fixed-delay -D restart-strategy.fixed-delay.attempts=2 \
  -D restart-strategy.fixed-delay.delay=10ms --fail-at 20000 --rate 15000
expect_out "1 restarts"
same_output "$TMP/o6" "in-run restart"
expect_exit 1 -- "$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o6b" --fail-at 100
expect_out "injected failure"
# No restart strategy with checkpointing on: Flink's default, exponential-delay, restarts the job.
expect_exit 0 -- "$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o6c" -D execution.checkpointing.interval=30ms \
  -D "state.checkpoints.dir=$TMP/ck6c" --fail-at 20000 --rate 15000 -v
expect_out "status +FINISHED"
expect_out "1 restarts"
expect_err "exponential-delay .*default with checkpointing"
same_output "$TMP/o6c" "restart by the default strategy"
# Flink's other strategies and names, with their keys.
expect_exit 0 -- "$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o6d" -D execution.checkpointing.interval=30ms \
  -D "state.checkpoints.dir=$TMP/ck6d" --fail-at 20000 --rate 15000 -D restart-strategy=exponentialdelay \
  -D restart-strategy.exponential-delay.initial-backoff=10ms -D restart-strategy.exponential-delay.max-backoff=20ms \
  -D restart-strategy.exponential-delay.backoff-multiplier=2 -D restart-strategy.exponential-delay.jitter-factor=0
expect_out "1 restarts"
same_output "$TMP/o6d" "exponential-delay restart"
expect_exit 0 -- "$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o6e" -D execution.checkpointing.interval=30ms \
  -D "state.checkpoints.dir=$TMP/ck6e" --fail-at 20000 --rate 15000 -D restart-strategy.type=failure-rate \
  -D restart-strategy.failure-rate.max-failures-per-interval=2 -D restart-strategy.failure-rate.delay=10ms
expect_out "1 restarts"
same_output "$TMP/o6e" "failure-rate restart"
expect_exit 1 -- "$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o6f" -D execution.checkpointing.interval=30ms \
  -D "state.checkpoints.dir=$TMP/ck6f" --fail-at 100 -D restart-strategy.type=off
expect_out "0 restarts"
expect_exit 2 -- "$CKPT" run "${JOB[@]}" --output "$TMP/x" -D restart-strategy.type=sometimes
expect_err "restart-strategy.type"
expect_exit 2 -- "$CKPT" run "${JOB[@]}" --output "$TMP/x" -D restart-strategy.type=exponential-delay \
  -D restart-strategy.exponential-delay.backoff-multiplier=1
expect_err "backoff-multiplier"

# --- savepoints: from another terminal, and stop-with-savepoint on SIGTERM ----------------------
CK=$TMP/ck7
OPTS=(-D execution.checkpointing.interval=50ms -D "state.checkpoints.dir=$CK" -D "state.savepoints.dir=$TMP/sp" "${KEEP[@]}")
"$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o7" --rate 2000 --job-id 0123456789abcdef0123456789abcdef "${OPTS[@]}" >"$TMP/run7" 2>&1 &
pid=$!
wait_for_checkpoints "$CK" 1 $pid
expect_exit 0 -- "$CKPT" savepoint "$CK/0123456789abcdef0123456789abcdef"
expect_out "savepoint-012345-[0-9a-f]{12}$"
sp=$(cat "$TMP/out")
expect_exit 0 -- "$CKPT" inspect "$sp"
expect_out "savepoint \(canonical\)"
expect_exit 0 -- "$CKPT" validate "$sp"
oracle_roundtrip "$sp/_metadata"
expect_exit 0 -- "$CKPT" savepoint 0123456789abcdef0123456789abcdef "$TMP/sp2" --stop --json
expect_out '"stopped": ?true'
wait $pid
checks=$((checks + 1))
grep -q "stopped with savepoint" "$TMP/run7" || fail "stop-with-savepoint did not stop the job"
# A savepoint is self-contained: move it, restore from it, the output is complete.
mv "$sp" "$TMP/moved-savepoint"
expect_exit 0 -- "$CKPT" restore "$TMP/moved-savepoint" -p 3 --output "$TMP/o7b" "${OPTS[@]}"
expect_exit 2 -- "$CKPT" savepoint "$CK/0123456789abcdef0123456789abcdef"
expect_err "not running"

"$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o8" --rate 2000 --stop-with-savepoint-on-sigterm "${OPTS[@]}" >"$TMP/run8" 2>&1 &
pid=$!
wait_for_checkpoints "$CK" 1 $pid
kill -TERM $pid
wait $pid
rc=$?
checks=$((checks + 1))
[ $rc -eq 0 ] || fail "stop-with-savepoint on SIGTERM did not exit 0"
grep -q "^savepoint " "$TMP/run8" || fail "no savepoint reported after SIGTERM"
sp=$(sed -n 's/^savepoint *//p' "$TMP/run8" | tail -1)
oracle_roundtrip "$sp/_metadata"
expect_exit 0 -- "$CKPT" restore "$sp" -p 2 "${OPTS[@]}"
same_output "$TMP/o8" "stop-with-savepoint then restore"

# --- unaligned checkpoints write channel state ---------------------------------------------
CK=$TMP/ck9
# A longer job at full speed, so that channels are backpressured when barriers arrive.
BIG=(--generate 600000 --vocabulary 3000 --window 2s --events-per-second 20000 --seed 3)
expect_exit 0 -- "$CKPT" run "${BIG[@]}" -p 1 --output "$TMP/ref9"
"$CKPT" run "${BIG[@]}" -p 2 --output "$TMP/o9" -D execution.checkpointing.interval=10ms \
  -D execution.checkpointing.unaligned=true -D "state.checkpoints.dir=$CK" -D state.checkpoints.num-retained=50 \
  "${KEEP[@]}" >/dev/null 2>&1
checks=$((checks + 1))
found=0
with_channel=()
for d in "$CK"/*/chk-*; do
  "$CKPT" inspect "$d" | grep -qE "channel [1-9]" && found=1 && with_channel+=("$d/_metadata")
done
# Flink loads checkpoints holding channel state and writes them back byte for byte (at most 3).
[ "$found" = 0 ] || oracle_roundtrip "${with_channel[@]:0:3}"
[ "$found" -eq 1 ] || fail "no unaligned checkpoint holds channel state"
checks=$((checks + 1))
cmp -s <(sort "$TMP"/ref9/part-*) <(sort "$TMP"/o9/part-*) || fail "unaligned: committed output differs from the failure-free run"

# --- compression ---------------------------------------------------------------------------
expect_exit 0 -- "$CKPT" run "${JOB[@]}" -p 2 --output "$TMP/o10" -D execution.checkpointing.interval=50ms \
  -D "state.checkpoints.dir=$TMP/ck10" -D execution.checkpointing.snapshot-compression=true "${KEEP[@]}"
from=$(latest_checkpoint "$TMP/ck10")
oracle_roundtrip "$from/_metadata"
expect_exit 0 -- "$CKPT" restore "$from" -p 3 --output "$TMP/o10b" -D "state.checkpoints.dir=$TMP/ck10b"
# Flink's compression: Snappy framed streams (keyed and operator state), read by the state spec's
# reader as any Flink snapshot's.
checks=$((checks + 1))
grep -lq "sNaPpY" "$from"/* 2>/dev/null || fail "no Snappy stream in the compressed checkpoint's files"
expect_exit 0 -- "$CKPT" state "$from"
check_eq "problems reading the compressed checkpoint" "$(grep -vc 'note:' "$TMP/err")" 0
check_ge "entries of the compressed checkpoint" "$(wc -l < "$TMP/out")" 100

# --- configuration -------------------------------------------------------------------------
expect_exit 2 -- "$CKPT" run "${JOB[@]}" --output "$TMP/x" -D execution.checkpointing.interval=soon
expect_err "execution.checkpointing.interval"
expect_exit 2 -- "$CKPT" run "${JOB[@]}" --output "$TMP/x" -D state.storage.fs.memory-threshold=2mb
expect_err "state.storage.fs.memory-threshold"
expect_exit 0 -- "$CKPT" run "${JOB[@]}" --output "$TMP/x" -D no.such.key=1
expect_err "no.such.key.*unknown key"
printf 'execution.checkpointing.interval: 50ms\nstate.backend: FsStateBackend\nstate.checkpoints.dir: %s\n' "$TMP/ck11" >"$TMP/config.yaml"
expect_exit 0 -- "$CKPT" run "${JOB[@]}" --output "$TMP/o11" -c "$TMP/config.yaml" "${KEEP[@]}"
expect_err "hashmap state backend \+ filesystem checkpoint storage"
# Flink 1.19+'s nested config.yaml, mixed with flat keys; a YAML list for the local root dirs.
printf 'execution:\n  checkpointing:\n    interval: 50ms\n    dir: %s\nstate.backend:\n  type: hashmap\ntaskmanager.state.local.root-dirs:\n  - %s\n' \
  "$TMP/ck12" "$TMP/lr12" >"$TMP/nested.yaml"
expect_exit 0 -- "$CKPT" run "${JOB[@]}" --output "$TMP/o12" -c "$TMP/nested.yaml" "${KEEP[@]}"
same_output "$TMP/o12" "nested config.yaml"
checks=$((checks + 1))
ls -d "$TMP"/ck12/*/chk-* >/dev/null 2>&1 || fail "nested config.yaml: no checkpoints in execution.checkpointing.dir"
printf 'execution:\n  checkpointing:\n    interval: [50ms\n' >"$TMP/broken.yaml"
expect_exit 2 -- "$CKPT" run "${JOB[@]}" --output "$TMP/x" -c "$TMP/broken.yaml"
expect_err "broken.yaml:[0-9]+: invalid YAML"
printf 'execution.checkpointing.interval:\n' >"$TMP/novalue.yaml"
expect_exit 2 -- "$CKPT" run "${JOB[@]}" --output "$TMP/x" -c "$TMP/novalue.yaml"
expect_err "novalue.yaml:1: execution.checkpointing.interval: expected a value"
# A deprecated key and its current key: the current one wins, with a warning naming it.
expect_exit 0 -- "$CKPT" run "${JOB[@]}" --output "$TMP/o13" -D execution.checkpointing.interval=50ms "${KEEP[@]}" \
  -D "state.checkpoints.dir=$TMP/ck13-old" -D "execution.checkpointing.dir=$TMP/ck13-new"
expect_err "using execution.checkpointing.dir=.*ck13-new \(state.checkpoints.dir is deprecated\)"
checks=$((checks + 1))
[ -d "$TMP/ck13-new" ] && [ ! -e "$TMP/ck13-old" ] || fail "the deprecated state.checkpoints.dir won over execution.checkpointing.dir"
# --- the main command without ceremony ----------------------------------------------------------
# No --output: the results on stdout (as Flink's WordCount prints them), the summary on stderr.
expect_exit 0 -- "$CKPT" run "${JOB[@]}"
checks=$((checks + 1))
sort "$TMP/out" | cmp -s - "$TMP/ref.sorted" || fail "run without --output: stdout differs from the part files"
expect_err "status +FINISHED"
expect_exit 2 -- "$CKPT" run "${JOB[@]}" --json
expect_err "--json needs --output"
expect_exit 2 -- "$CKPT" run "${JOB[@]}" --output "$TMP/x" -p 0
expect_err "-p 0: expected a parallelism of at least 1"
mkdir -p "$TMP/in"
echo "a b" >"$TMP/in/f.txt"
expect_exit 2 -- "$CKPT" run "${JOB[@]}" --input "$TMP/in" --output "$TMP/x"
expect_err "either --generate N or --input DIR, not both"

# --- restore the way Flink does it: -s / execution.state-recovery.path, -n -----------------------
# (The final checkpoint of a finished job: the restored jobs have nothing left to read.)
from=$(latest_checkpoint "$TMP/ck10")
expect_exit 0 -- "$CKPT" run -s "$from" -p 3 --output "$TMP/o14" -D "state.checkpoints.dir=$TMP/ck14"
expect_out "restored +$from"
expect_out "status +FINISHED"
expect_exit 0 -- "$CKPT" run -p 2 --output "$TMP/o15" -D "execution.savepoint.path=$from"
expect_out "restored +$from"
expect_exit 2 -- "$CKPT" run -s "$from" "${JOB[@]}" --output "$TMP/x"
expect_err "drop --generate"
# A snapshot with state of an operator the job does not have: refused naming it, unless -n.
mkdir -p "$TMP/extra"
cp -r "$from" "$TMP/extra/"
extra=$TMP/extra/$(basename "$from")
expect_exit 0 -- "$CKPT" convert "$extra/_metadata" --to json -o "$TMP/extra.json"
python3 - "$TMP/extra.json" <<'PY' || fail "could not add an operator to the JSON export"
import copy, json, sys
d = json.load(open(sys.argv[1]))
ops = d["operators"]
with_state = next(o for o in ops if set(o) - {"id", "uid", "name", "parallelism", "maxParallelism"})
extra = copy.deepcopy(with_state)
extra["id"] = "0123456789abcdef0123456789abcdef"
extra.pop("uid", None)
extra.pop("name", None)
ops.append(extra)
json.dump(d, open(sys.argv[1], "w"))
PY
expect_exit 0 -- "$CKPT" convert "$TMP/extra.json" --to flink -o "$extra/_metadata" --force
expect_exit 2 -- "$CKPT" restore "$extra" --output "$TMP/o16"
expect_err "operator 0123456789abcdef0123456789abcdef.*allowNonRestoredState"
checks=$((checks + 1))
[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "non-restored state: more than one line on stderr"
expect_exit 0 -- "$CKPT" restore "$extra" --output "$TMP/o16" -n
expect_err "skipped the state of operator 0123456789abcdef0123456789abcdef"
expect_out "status +FINISHED"
expect_exit 0 -- "$CKPT" run -s "$extra" --output "$TMP/o17" -D execution.state-recovery.ignore-unclaimed-state=true
expect_out "restored +$extra"

expect_exit 2 -- "$CKPT" restore "$TMP/nothing-here"
expect_exit 2 -- "$CKPT" run --output "$TMP/x"
expect_err "no input"
finish
