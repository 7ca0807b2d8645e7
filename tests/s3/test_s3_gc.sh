#!/usr/bin/env bash
# gc and prune on s3:// roots against the local S3 (strict SigV4 proxy, fault injection): the
# same safety rules as locally (lib/ops/deletion_plan.h), one listing, two-phase deletes through
# DeleteObjects, a lease against concurrent runs, --explain (lib/ops/store_plan.h).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../cli/lib.sh
. "$here/../cli/lib.sh" "$1" "$2"
# shellcheck source=lib_s3.sh
. "$here/lib_s3.sh"

s3_start
B=ckpt-gc
s3_mb "$B" || fail "mb $B"

# --- a RocksDB incremental job keeping several checkpoints, relocated to s3://$B/ck ----------
d=$TMP/local
"$CKPT" run --generate 60000 --vocabulary 500 -p 2 --rate 20000 --keep-checkpoints --output "$d/out" \
  -D state.storage.fs.memory-threshold=1kb \
  -D execution.checkpointing.interval=40ms -D "state.checkpoints.dir=$d/ck" -D state.checkpoints.num-retained=3 \
  -D state.backend.type=rocksdb -D state.backend.incremental=true -D "state.backend.rocksdb.localdir=$TMP/rdb" \
  >"$TMP/run.log" 2>&1 || { fail "pipeline run"; cat "$TMP/run.log" >&2; }
job=$(basename "$(ls -d "$d"/ck/*/ | head -1)")
cp -r "$d/ck" "$TMP/s3copy"
expect_exit 0 -- "$CKPT" convert --relocate "$d/ck=s3://$B/ck" --in-place "$TMP/s3copy/$job"
# Orphans: extra objects in shared/ that no checkpoint references.
mkdir -p "$TMP/s3copy/$job/shared"
for i in 1 2 3; do echo "orphan $i" >"$TMP/s3copy/$job/shared/orphan-$i"; done
s3_put_dir "$TMP/s3copy" "s3://$B/ck" || fail "upload"
latest_name=$(basename "$(latest_checkpoint "$TMP/s3copy")")
n_ck=$(ls -d "$TMP/s3copy/$job"/chk-*/_metadata | wc -l)
sleep 1

# --- inspect --summary and --who-uses on the bucket: the same answers as on the local original -----
expect_exit 0 -- "$CKPT" inspect --summary --json "$d/ck"
cp "$TMP/out" "$TMP/summary-local.json"
expect_exit 0 -- "$CKPT" inspect --summary --json "s3://$B/ck"
python3 - "$TMP/summary-local.json" "$TMP/out" "s3://$B/ck/$job" <<'PY' || fail "inspect --summary on s3:// differs from the local root's"
import json, sys
local, remote, job = (json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3])
l, r = local["total"], remote["total"]
assert [j["jobDir"] for j in remote["jobs"]] == [job], remote["jobs"]
for k in ("checkpoints", "savepoints", "incomplete", "sharedBytes"):
    assert l[k] == r[k], (k, l[k], r[k])
# The three orphans added to shared/ ("orphan N\n", 9 bytes each) on top of the local ones.
assert r["orphanedBytes"] == l["orphanedBytes"] + 27, (l["orphanedBytes"], r["orphanedBytes"])
assert r["files"] == l["files"] + 3, (l["files"], r["files"])
PY
expect_exit 0 -- "$CKPT" inspect --summary "s3://$B/ck"
expect_out "^$job "
expect_out "orphaned: referenced by no snapshot"
sst=$(s3_ls "s3://$B/ck/$job/shared/" | grep -v orphan | head -1)
expect_exit 0 -- "$CKPT" inspect --who-uses "s3a://$B/$sst" "s3://$B/ck"
expect_out "^ *[0-9]+ +checkpoint +s3://$B/ck/$job/chk-[0-9]+$"
expect_out "snapshots? reference s3://$B/$sst"
expect_exit 0 -- "$CKPT" inspect --who-uses "s3://$B/ck/$job/shared/orphan-1" "s3://$B/ck"
expect_out "no snapshot under s3://$B/ck references it"
expect_exit 2 -- "$CKPT" inspect --who-uses "s3://another-bucket/x" "s3://$B/ck"
expect_err "expected an object of s3://$B/ck"

# --- gc --dry-run, then gc: the orphans go, nothing else --------------------------------------
s3_ls "s3://$B/ck/" | sort >"$TMP/before.txt"
expect_exit 0 -- "$CKPT" gc --dry-run --grace 0s "s3://$B/ck"
expect_out "orphan .*$job/shared/orphan-1"
expect_out "dry run"
s3_ls "s3://$B/ck/" | sort | cmp -s - "$TMP/before.txt" || fail "gc --dry-run changed the bucket"
expect_exit 0 -- "$CKPT" gc --json --grace 0s --dry-run "s3://$B/ck"
grep -q "\"s3://$B/ck\"" "$TMP/out" || fail "gc --json: root not shown as its s3:// URI"
checks=$((checks + 2))
# --explain: which snapshots use an object and what the plan does with it; read only (no lease).
used=$("$CKPT" inspect --files "s3://$B/ck/$job/$latest_name" | grep -o "s3://$B/ck/$job/shared/[0-9a-f-]*" | head -1)
[ -n "$used" ] || fail "the latest checkpoint uses no shared object"
expect_exit 0 -- "$CKPT" gc --grace 0s --explain "$used" "s3://$B/ck"
expect_out "^file +$used\$"
expect_out "^used by +[1-9][0-9]* snapshots?, "
expect_out "^verdict +kept: used by [1-9]"
expect_out "^$job/$latest_name +keep"
expect_exit 0 -- "$CKPT" gc --grace 0s --explain "s3a://$B/ck/$job/shared/orphan-1" --json "s3://$B/ck"
python3 - "$TMP/out" "s3://$B/ck/$job/shared/orphan-1" <<'PY' || fail "gc --explain --json of an orphan: $(cat "$TMP/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert not d.get("referenced") and not d.get("uses"), d
assert d["verdict"] == "deleted (orphan)", d
assert sys.argv[2] in json.dumps(d), d
PY
checks=$((checks + 1))
expect_exit 0 -- "$CKPT" prune --retain 1 --grace 0s --explain "$used" "s3://$B/ck"
expect_out "verdict +kept: used by 1 kept snapshot"
expect_exit 2 -- "$CKPT" gc --grace 0s --explain "s3://other-bucket/x" "s3://$B/ck"
expect_err "^ckpt gc: --explain s3://other-bucket/x: expected an object of s3://$B/ck or a path under a --map$"
s3_ls "s3://$B/ck/" | sort | cmp -s - "$TMP/before.txt" || fail "gc --explain changed the bucket (or left a lease)"
checks=$((checks + 1))
expect_exit 0 -- "$CKPT" gc --grace 0s "s3://$B/ck"
s3_ls "s3://$B/ck/" | sort >"$TMP/after.txt"
grep -q orphan "$TMP/after.txt" && fail "gc left orphans"
[ "$(comm -23 "$TMP/before.txt" "$TMP/after.txt" | grep -vc orphan)" = 0 ] || fail "gc deleted more than orphans"
grep -q ckpt-gc.lease "$TMP/after.txt" && fail "lease left behind"
checks=$((checks + 3))

# --- a kept checkpoint missing a shared object: exit 1, nothing deleted -----------------------
s3_ls "s3://$B/ck/$job/shared/" >"$TMP/shared.txt"
victim=$(head -1 "$TMP/shared.txt")
[ -n "$victim" ] || fail "the job has no objects in shared/"
s3_aws s3 cp "s3://$B/$victim" "$TMP/victim" >/dev/null || fail "download of $victim"
s3_aws s3 rm "s3://$B/$victim" >/dev/null
echo stray >"$TMP/stray"; s3_aws s3 cp "$TMP/stray" "s3://$B/ck/$job/shared/orphan-x" >/dev/null
sleep 1
s3_ls "s3://$B/ck/" | sort >"$TMP/before.txt"
expect_exit 1 -- "$CKPT" gc --grace 0s "s3://$B/ck"
expect_out "MISSING OR SHORT"
s3_ls "s3://$B/ck/" | sort | cmp -s - "$TMP/before.txt" || fail "a missing reference still let gc delete"
s3_aws s3 cp "$TMP/victim" "s3://$B/$victim" >/dev/null
checks=$((checks + 1))

# --- a failing listing page: nothing deleted ----------------------------------------------------
mkdir -p "$TMP/many/$job/shared"
for i in $(seq 1 1100); do echo "$i" >"$TMP/many/$job/shared/old-$i"; done
s3_put_dir "$TMP/many" "s3://$B/ck" || fail "upload of 1,100 orphans"
sleep 1
s3_ls "s3://$B/ck/" | sort >"$TMP/before.txt"
s3_faults '{"fail_list_page": 2}' >/dev/null
expect_exit 2 -- "$CKPT" gc --grace 0s "s3://$B/ck"
s3_faults clear >/dev/null
s3_ls "s3://$B/ck/" | sort | cmp -s - "$TMP/before.txt" || fail "gc deleted after a failed listing"
checks=$((checks + 1))

# --- a concurrent run is refused by the lease ----------------------------------------------------
echo "owner=ckpt gc
host=elsewhere
pid=1
expires_unix=$(($(date +%s) + 3600))" >"$TMP/lease"
s3_aws s3 cp "$TMP/lease" "s3://$B/ck/.ckpt-gc.lease" >/dev/null
expect_exit 2 -- "$CKPT" gc --grace 0s "s3://$B/ck"
expect_err "holds the lease"
s3_ls "s3://$B/ck/$job/shared/" >"$TMP/shared.txt"
grep -q "old-1\$" "$TMP/shared.txt" || fail "a refused run deleted"
s3_aws s3 rm "s3://$B/ck/.ckpt-gc.lease" >/dev/null

# --- deny_delete_keys: the key reported, exit non-zero, nothing else lost ------------------------
s3_faults '{"deny_delete_keys": ["ck/'"$job"'/shared/old-1"]}' >/dev/null
expect_exit 1 -- "$CKPT" gc --grace 0s "s3://$B/ck"
expect_err "not deleted: s3://$B/ck/$job/shared/old-1.*AccessDenied"
s3_faults clear >/dev/null
s3_ls "s3://$B/ck/$job/shared/" >"$TMP/shared.txt"
grep -q "old-1\$" "$TMP/shared.txt" || fail "the denied key is gone"
checks=$((checks + 1))

# --- faults (503s, SlowDown) change nothing in the result -----------------------------------------
s3_faults '{"error_rate": 0.2, "error_status": 503, "slowdown_rate": 0.1, "seed": 3}' >/dev/null
expect_exit 0 -- "$CKPT" gc --grace 0s "s3://$B/ck"
s3_faults clear >/dev/null
s3_ls "s3://$B/ck/$job/shared/" >"$TMP/shared.txt"
grep -q "old-" "$TMP/shared.txt" && fail "gc under faults left orphans"
checks=$((checks + 1))

# --- a run longer than its lease's TTL renews it (TTL 3 s by the test hook; every request slowed) --
# The lease is watched behind the proxy's back (s3rver itself, no delay): its expiry must move
# while the run goes on, and no lease is left afterwards.
s3_faults '{"delay_ms": 700}' >/dev/null
CKPT_TEST_LEASE_TTL=3 "$CKPT" gc --grace 0s "s3://$B/ck" >"$TMP/long.out" 2>&1 &
long=$!
python3 - "$S3RVER_ENDPOINT/$B/ck/.ckpt-gc.lease" "$long" >"$TMP/expiries" <<'PY'
import os, sys, time, urllib.request, urllib.error
url, pid = sys.argv[1], int(sys.argv[2])
seen = []
deadline = time.time() + 60
while time.time() < deadline:
    try:
        body = urllib.request.urlopen(url, timeout=5).read().decode()
        e = [l for l in body.splitlines() if l.startswith("expires_unix=")]
        if e and (not seen or seen[-1] != e[0]):
            seen.append(e[0])
    except urllib.error.HTTPError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        break
    time.sleep(0.2)
print("\n".join(seen))
PY
wait $long || fail "the long gc run failed: $(tail -2 "$TMP/long.out")"
s3_faults clear >/dev/null
check_ge "lease expiries seen while the run lasted (the first, then renewals)" "$(wc -l <"$TMP/expiries")" 2
s3_aws s3api head-object --bucket "$B" --key ck/.ckpt-gc.lease >/dev/null 2>&1 && fail "lease left behind after a renewed run"

# --- prune --retain 1: older checkpoints' exclusive objects go, shared files of the kept stay ------
s3_ls "s3://$B/ck/" | sort >"$TMP/before.txt"
expect_exit 0 -- "$CKPT" prune --retain 1 --grace 0s --dry-run "s3://$B/ck"
expect_out "pruned-metadata"
s3_ls "s3://$B/ck/" | sort | cmp -s - "$TMP/before.txt" || fail "prune --dry-run changed the bucket"
# kill -9 right after the first deletion (phase 1), then a rerun converges.
expect_exit 137 -- env CKPT_TEST_CRASH_AFTER=1 "$CKPT" prune --retain 1 --grace 0s "s3://$B/ck"
# The killed run's lease names a process of this host that is gone: the rerun takes it over.
s3_aws s3api head-object --bucket "$B" --key ck/.ckpt-gc.lease >/dev/null 2>&1 ||
  fail "the killed run left no lease (test hook changed?)"
checks=$((checks + 1))
expect_exit 0 -- "$CKPT" prune --retain 1 --grace 0s "s3://$B/ck"
expect_err "note: took over the lease of a run on this host that has ended"
expect_exit 0 -- "$CKPT" gc --grace 0s "s3://$B/ck"
[ "$(s3_ls "s3://$B/ck/$job/" | grep -c '/_metadata$')" = 1 ] || fail "prune --retain 1 left more than one checkpoint"
s3_ls "s3://$B/ck/$job/" >"$TMP/job.txt"
grep -q "/$latest_name/_metadata\$" "$TMP/job.txt" || fail "prune removed the latest checkpoint"
expect_exit 0 -- "$CKPT" inspect "s3://$B/ck/$job/$latest_name"
# Every shared object the kept checkpoint references is still there.
"$CKPT" inspect --files "s3://$B/ck/$job/$latest_name" | grep -o "s3://$B/ck/$job/shared/[^ ]*" | sort -u >"$TMP/refs"
s3_ls "s3://$B/ck/$job/shared/" | sed "s|^|s3://$B/|" | sort >"$TMP/have"
[ -z "$(comm -23 "$TMP/refs" "$TMP/have")" ] || fail "prune deleted a shared object the kept checkpoint uses"
checks=$((checks + 3))
# --map still plans on a local mirror of the prefix (nothing is asked of the store).
expect_exit 0 -- "$CKPT" gc --dry-run --grace 0s --map "s3://$B/ck=$TMP/s3copy" "s3://$B/ck"
expect_out "gc $TMP/s3copy"
[ "$n_ck" -ge 2 ] || fail "the job kept $n_ck checkpoints, expected at least 2"

finish
