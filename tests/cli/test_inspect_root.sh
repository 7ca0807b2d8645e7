#!/usr/bin/env bash
# Whole-root answers of `ckpt inspect ROOT`: --summary (bytes per job by what uses them, agreeing
# with gc's plan and with the files on disk), --who-uses FILE (agreeing with each snapshot's
# --files), and the listing's filters and order (--job, --kind, --since, --limit, --sort).
source "$(dirname "$0")/lib.sh"

root=$TMP/root
CKPT_RUNTIME_DIR=$TMP/runtime "$CKPT" run --generate 60000 --vocabulary 3000 -p 2 --output "$TMP/job-out" \
  -D execution.checkpointing.interval=30ms -D "state.checkpoints.dir=$root" -D "state.savepoints.dir=$root" \
  -D state.checkpoints.num-retained=4 -D state.backend.type=rocksdb -D state.backend.incremental=true \
  -D "state.backend.rocksdb.localdir=$TMP/rdb" -D state.storage.fs.memory-threshold=1kb --keep-checkpoints \
  --stop-with-savepoint-on-sigterm --rate 6000 >"$TMP/run" 2>&1 &
pid=$!
wait_for_checkpoints "$root" 5 "$pid"
kill -TERM "$pid"
wait "$pid" || fail "the job did not stop with a savepoint: $(tail -3 "$TMP/run")"
job=$(basename "$(ls -d "$root"/*/chk-* | head -1 | xargs dirname)")
# Garbage: an orphan in shared/ and an incomplete checkpoint.
printf 'orphan bytes' >"$root/$job/shared/orphan-1"
mkdir -p "$root/$job/chk-999" && printf 'partial' >"$root/$job/chk-999/state-file"
touch -d '2 hours ago' "$root/$job/shared/orphan-1" "$root/$job/chk-999/state-file" "$root/$job/chk-999"

# --- --summary ---------------------------------------------------------------------------------
expect_exit 0 -- "$CKPT" inspect "$root" --summary
expect_out "^$job +[0-9]+ +0 +1 "
expect_out "^total "
expect_exit 0 -- "$CKPT" inspect "$root" --summary --json
cp "$TMP/out" "$TMP/summary.json"
on_disk=$(find "$root/$job" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
expect_exit 0 -- "$CKPT" gc --dry-run --grace 0s --json "$root"
cp "$TMP/out" "$TMP/gc.json"
checks=$((checks + 1))
python3 - "$TMP/summary.json" "$TMP/gc.json" "$root/$job" "$on_disk" <<'PY' || fail "summary: $(cat "$TMP/summary.json")"
import json, sys
s = json.load(open(sys.argv[1])); gc = json.load(open(sys.argv[2])); job_dir, on_disk = sys.argv[3], int(sys.argv[4])
j = [x for x in s["jobs"] if x["jobDir"] == job_dir]
assert len(j) == 1, s
j = {k: int(v) if isinstance(v, (int, str)) and str(v).isdigit() else v for k, v in j[0].items()}
parts = sum(j.get(k, 0) for k in ("sharedBytes", "exclusiveBytes", "orphanedBytes", "otherBytes"))
assert j["totalBytes"] == on_disk, (j, on_disk)           # every byte on disk counted once
assert parts == j["totalBytes"], (parts, j)
assert j["orphanedBytes"] == len("orphan bytes") + len("partial"), j
assert j.get("incomplete", 0) == 1 and j["checkpoints"] >= 1 and j.get("savepoints", 0) == 0, j
assert j["sharedBytes"] > 0 and j["exclusiveBytes"] > 0, j
# gc's plan frees exactly what the summary calls orphaned.
def find(o, key):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == key: yield v
            yield from find(v, key)
    elif isinstance(o, list):
        for v in o: yield from find(v, key)
freed = [int(v) for v in find(gc, "bytes")] + [int(v) for v in find(gc, "freedBytes")] + [int(v) for v in find(gc, "bytesFreed")]
assert j["orphanedBytes"] in freed, (j["orphanedBytes"], freed)
PY

# --- --who-uses --------------------------------------------------------------------------------
shared_file=$(ls "$root/$job"/shared/* | grep -v orphan | head -1)
expect_exit 0 -- "$CKPT" inspect "$root" --who-uses "$shared_file"
cp "$TMP/out" "$TMP/who"
want=0
for c in "$root/$job"/chk-*/; do
  [ -f "$c/_metadata" ] || continue
  "$CKPT" inspect --files "$c" >"$TMP/files"
  grep -qF "$(basename "$shared_file")" "$TMP/files" && want=$((want + 1))
done
checks=$((checks + 1))
grep -q "^$want snapshots\? reference " "$TMP/who" || fail "--who-uses: expected $want users: $(cat "$TMP/who")"
expect_exit 0 -- "$CKPT" inspect "$root" --who-uses "$root/$job/shared/orphan-1"
expect_out "no snapshot under .* references it"
expect_exit 0 -- "$CKPT" inspect "$root" --who-uses "$shared_file" --json
expect_out '"users":\[\{'
# Both documents against their schema (formats/root.proto), as test_json_mapping checks the rest.
checks=$((checks + 1))
python3 "$(dirname "$0")/json_schema_check.py" "$(dirname "$0")/../../formats" FileUsersReport "$TMP/out" ||
  fail "--who-uses --json does not match FileUsersReport"
checks=$((checks + 1))
python3 "$(dirname "$0")/json_schema_check.py" "$(dirname "$0")/../../formats" RootSummaryReport "$TMP/summary.json" ||
  fail "--summary --json does not match RootSummaryReport"

# --- filters and order ------------------------------------------------------------------------
expect_exit 0 -- "$CKPT" inspect "$root" --kind savepoint
expect_out "1 snapshots, 0 incomplete"
expect_exit 0 -- "$CKPT" inspect "$root" --kind checkpoint --sort id --limit 1
latest=$(latest_checkpoint "$root")
expect_out "^ +${latest##*/chk-} +checkpoint"
expect_out "^1 snapshots"
expect_exit 0 -- "$CKPT" inspect "$root" --job "${job:0:8}" --kind checkpoint
n_ck=$(ls -d "$root/$job"/chk-*/_metadata | wc -l)
expect_out "^$n_ck snapshots, 1 incomplete"
expect_exit 0 -- "$CKPT" inspect "$root" --job 0000000000
expect_out "^0 snapshots, 0 incomplete"
expect_exit 0 -- "$CKPT" inspect "$root" --since 2099-01-01
expect_out "^0 snapshots"
expect_exit 0 -- "$CKPT" inspect "$root" --since 1h --sort size --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("ok")' "$TMP/out" >/dev/null || fail "--json of a filtered listing"
expect_exit 2 -- "$CKPT" inspect "$root" --since yesterday
expect_err "--since yesterday: expected a duration"
expect_exit 2 -- "$CKPT" inspect "$latest" --limit 1
expect_err "filter a root's listing; this is one snapshot"
expect_exit 2 -- "$CKPT" inspect "$root" --sort name
finish
