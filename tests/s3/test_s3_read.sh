#!/usr/bin/env bash
# The read-only commands on s3:// against the local S3 (s3rver behind the strict SigV4 proxy):
# inspect (one snapshot, a root listing, --json, --files), diff, and their bad inputs: a wrong
# secret, a missing bucket or object, no credentials, a listing that fails on page 2, and
# injected faults (503, SlowDown, GETs cut half-way) that must change nothing in the output.
# Snapshots are made by the bundled pipeline (RocksDB incremental, so that checkpoints share
# files in shared/), relocated to their s3:// home with `ckpt convert --relocate` and uploaded.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../cli/lib.sh
. "$here/../cli/lib.sh" "$1" "$2"
# shellcheck source=lib_s3.sh
. "$here/lib_s3.sh"

s3_start
B=ckpt-read
s3_mb "$B" || fail "mb $B"

# --- a RocksDB incremental job that keeps three checkpoints ----------------------------------
d=$TMP/local
"$CKPT" run --generate 60000 --vocabulary 500 -p 2 --keep-checkpoints --output "$d/out" \
  -D execution.checkpointing.interval=40ms -D "state.checkpoints.dir=$d/ck" -D state.checkpoints.num-retained=3 \
  -D state.backend.type=rocksdb -D state.backend.incremental=true -D "state.backend.rocksdb.localdir=$TMP/rdb" \
  -D state.storage.fs.memory-threshold=1kb \
  >"$TMP/run.log" 2>&1 || { fail "pipeline run"; cat "$TMP/run.log" >&2; }
job=$(basename "$(ls -d "$d"/ck/*/ | head -1)")
n_local=$(ls -d "$d/ck/$job"/chk-*/_metadata | wc -l)
[ "$n_local" -ge 2 ] || fail "the job kept $n_local checkpoints, expected at least 2"
# Its s3:// twin: the handles name s3://$B/ck/... as a job writing there would.
cp -r "$d/ck" "$TMP/s3copy"
expect_exit 0 -- "$CKPT" convert --relocate "$d/ck=s3://$B/ck" --in-place "$TMP/s3copy/$job"
oracle_roundtrip "$TMP"/s3copy/"$job"/chk-*/_metadata
s3_put_dir "$TMP/s3copy" "s3://$B/ck" || fail "upload"
latest=$(latest_checkpoint "$d/ck")
latest_name=$(basename "$latest")

# --- inspect ----------------------------------------------------------------------------------
expect_exit 0 -- "$CKPT" inspect "s3://$B/ck"
expect_out "$n_local snapshots, 0 incomplete"
expect_out "s3://$B/ck/$job/$latest_name"
expect_exit 0 -- "$CKPT" inspect "s3://$B/ck/$job/$latest_name"
expect_out "snapshot    s3://$B/ck/$job/$latest_name/_metadata"
expect_out "backend     rocksdb-incremental"
# The same snapshot, read from the bucket and from the local copy: the same metadata.
"$CKPT" inspect --json "$TMP/s3copy/$job/$latest_name" >"$TMP/local.json"
expect_exit 0 -- "$CKPT" inspect --json "s3a://$B/ck/$job/$latest_name/_metadata"
cp "$TMP/out" "$TMP/remote.json"
python3 - "$TMP/local.json" "$TMP/remote.json" <<'PY' || fail "inspect --json: the bucket's and the local copy's metadata differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["snapshot"]["metadata"] == b["snapshot"]["metadata"], "metadata"
for k in ("checkpointId", "version", "backend", "bytes", "files", "metadataBytes"):
    assert a["summary"].get(k) == b["summary"].get(k), k
assert b["summary"]["path"].startswith("s3a://"), b["summary"]["path"]
PY
checks=$((checks + 1))
expect_exit 0 -- "$CKPT" inspect --files "s3://$B/ck/$job/$latest_name"
expect_out "s3://$B/ck/$job/shared/"
# Virtual-host addressing (curl resolves *.localhost to 127.0.0.1 itself).
port=${AWS_ENDPOINT_URL##*:}
expect_exit 0 -- env AWS_ENDPOINT_URL="http://s3.localhost:$port" "$CKPT" inspect "s3://$B/ck"
expect_out "$n_local snapshots"
# Flink's keys on the command line win over the environment.
expect_exit 0 -- env AWS_ENDPOINT_URL=http://127.0.0.1:1 "$CKPT" inspect -D "s3.endpoint=$AWS_ENDPOINT_URL" \
  -D s3.path.style.access=true "s3://$B/ck/$job"

# --- diff -------------------------------------------------------------------------------------
expect_exit 0 -- "$CKPT" diff "s3://$B/ck/$job/$latest_name" "$TMP/s3copy/$job/$latest_name"
expect_out "equal"
older=$(ls -d "$d/ck/$job"/chk-* | grep -v "/$latest_name\$" | head -1)
expect_exit 1 -- "$CKPT" diff "s3://$B/ck/$job/$(basename "$older")" "s3://$B/ck/$job/$latest_name"

# --- validate: the F rules from the listing -------------------------------------------------------
expect_exit 0 -- "$CKPT" validate "s3://$B/ck"
expect_out "s3://$B/ck/$job/$latest_name/_metadata: valid"
expect_exit 0 -- "$CKPT" validate --json "s3://$B/ck/$job/$latest_name/_metadata"
# --deep: every referenced object downloaded (in parallel) and checked: SST block checksums.
expect_exit 0 -- "$CKPT" validate --deep "s3://$B/ck/$job/$latest_name"
expect_out "valid .*KiB read"
sst=$("$CKPT" inspect --files "s3://$B/ck/$job/$latest_name" | grep '\.sst\]' | grep -o "s3://$B/ck/$job/shared/[0-9a-f-]*" | head -1)
s3_aws s3 cp --only-show-errors "$sst" "$TMP/sst"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[100] ^= 0xff; open(sys.argv[2], "wb").write(b)' \
  "$TMP/sst" "$TMP/sst.bad"
s3_aws s3 cp --only-show-errors "$TMP/sst.bad" "$sst"
expect_exit 1 -- "$CKPT" validate --deep "s3://$B/ck/$job/$latest_name"
expect_out "D01 .*$sst .*block checksum mismatch"
s3_aws s3 cp --only-show-errors "$TMP/sst" "$sst"
# A shared file the latest checkpoint needs, deleted: F24 names the object, exit 1.
victim=$("$CKPT" inspect --files "s3://$B/ck/$job/$latest_name" | grep -o "s3://$B/ck/$job/shared/[0-9a-f-]*" | head -1)
[ -n "$victim" ] || fail "no shared file to remove"
s3_aws s3 cp --only-show-errors "$victim" "$TMP/victim"
s3_aws s3 rm --only-show-errors "$victim"
expect_exit 1 -- "$CKPT" validate "s3://$B/ck/$job/$latest_name"
expect_out "F24 .*$victim does not exist"
s3_aws s3 cp --only-show-errors "$TMP/victim" "$victim"
expect_exit 0 -- "$CKPT" validate "s3://$B/ck/$job/$latest_name"

# --- the commands that read a snapshot's files: from a staged copy of the objects ----------------
remote="s3://$B/ck/$job/$latest_name"
expect_exit 0 -- "$CKPT" pack "$remote" "$TMP/p.ckpt"
# Packed into the bucket: one object, unpacked from a download it is the same snapshot.
expect_exit 0 -- "$CKPT" pack "$remote" "s3://$B/archives/p.ckpt" -D s3.multipart.size=5mb
expect_out "into s3://$B/archives/p.ckpt"
s3_aws s3 cp --only-show-errors "s3://$B/archives/p.ckpt" "$TMP/p-dl.ckpt" || fail "download the archive"
expect_exit 0 -- "$CKPT" unpack "$TMP/p-dl.ckpt" "$TMP/unpacked-dl"
expect_exit 2 -- "$CKPT" pack "$remote" "s3://$B/archives/p.ckpt"
expect_err "s3://$B/archives/p.ckpt: already exists"
expect_exit 2 -- "$CKPT" pack "$remote" "s3://$B/archives/"
expect_err "name the object to write"
expect_exit 0 -- "$CKPT" unpack "$TMP/p.ckpt" "$TMP/unpacked"
diff -r "$TMP/unpacked" "$TMP/unpacked-dl" >/dev/null || fail "pack into s3://: its archive unpacks to other files"
checks=$((checks + 1))
# Unpacked into the bucket: verified here, uploaded with _metadata last; a second time refused.
expect_exit 0 -- "$CKPT" unpack "$TMP/p.ckpt" "s3://$B/savepoints/savepoint-0a0b0c-0123456789ab"
expect_exit 0 -- "$CKPT" validate --deep "s3://$B/savepoints/savepoint-0a0b0c-0123456789ab"
expect_out "valid \(0 errors, 0 warnings"
expect_exit 2 -- "$CKPT" unpack "$TMP/p.ckpt" "s3://$B/savepoints/savepoint-0a0b0c-0123456789ab"
expect_err "already holds objects"
expect_exit 0 -- "$CKPT" unpack --force "$TMP/p.ckpt" "s3://$B/savepoints/savepoint-0a0b0c-0123456789ab"
s3_aws s3 cp --only-show-errors "s3://$B/savepoints/savepoint-0a0b0c-0123456789ab/_metadata" "$TMP/unpacked-s3/_metadata"
oracle_roundtrip "$TMP/unpacked-s3/_metadata"
oracle_roundtrip "$TMP/unpacked/_metadata"
expect_exit 0 -- "$CKPT" validate --deep "$TMP/unpacked"
expect_exit 0 -- "$CKPT" convert "$remote" --self-contained "$TMP/sc"
expect_exit 0 -- "$CKPT" validate --deep "$TMP/sc"
oracle_roundtrip "$TMP/sc/_metadata"
expect_exit 0 -- "$CKPT" compact "$remote" --output "$TMP/compacted"
expect_out "verified: every column family"
oracle_roundtrip "$TMP/compacted/_metadata"
op=$("$CKPT" inspect --json "$remote" | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(next(o["id"] for o in d["summary"]["operators"] if int(o.get("bytes", {}).get("keyed", 0)) > 0))')
expect_exit 0 -- "$CKPT" materialize "$remote" "$TMP/db" --operator "$op" --subtask 0
[ -f "$TMP/db/CURRENT" ] || fail "materialize from s3:// made no RocksDB database"
checks=$((checks + 1))
ls -d "${TMPDIR:-/tmp}"/ckpt-stage-* >/dev/null 2>&1 && fail "a staged copy was left behind"
checks=$((checks + 1))
expect_exit 2 -- "$CKPT" convert --in-place --relocate a=b "$remote"
expect_err "cannot be rewritten in place yet"
# A referenced object that is gone: the staging names it, exit 2, nothing written.
s3_aws s3 mv --only-show-errors "$victim" "$TMP/victim2"
expect_exit 2 -- "$CKPT" pack "$remote" "$TMP/p2.ckpt"
expect_err "$victim: GetObject: HTTP 404"
[ ! -e "$TMP/p2.ckpt" ] || fail "pack wrote an archive although an object was missing"
checks=$((checks + 1))
s3_aws s3 cp --only-show-errors "$TMP/victim2" "$victim"

# --- bad input: one line naming the object, exit 2 ---------------------------------------------
expect_exit 2 -- env AWS_SECRET_ACCESS_KEY=wrong "$CKPT" inspect "s3://$B/ck"
expect_err "s3://$B/ck/: .*HTTP 403 SignatureDoesNotMatch"
[ "$(wc -l <"$TMP/err")" = 1 ] || fail "a wrong secret gives one line, got: $(cat "$TMP/err")"
checks=$((checks + 1))
expect_exit 2 -- "$CKPT" inspect "s3://no-such-bucket/ck"
expect_err "s3://no-such-bucket/ck/: .*HTTP 404 NoSuchBucket"
expect_exit 2 -- "$CKPT" inspect "s3://$B/ck/$job/chk-999999/_metadata"
expect_err "s3://$B/ck/$job/chk-999999/_metadata: no such object"
expect_exit 2 -- "$CKPT" inspect "s3://$B/nothing-here"
expect_err "no objects under this prefix"
expect_exit 2 -- env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
  AWS_CONFIG_FILE=/nonexistent "$CKPT" inspect "s3://$B/ck"
expect_err "no credentials found"
expect_exit 2 -- "$CKPT" inspect -D nokeyvalue "s3://$B/ck"
expect_exit 2 -- "$CKPT" inspect "s3:///ck"
expect_err "no bucket"

# A listing that fails on its second page (1,500 more objects make two pages) is an error, never
# a short listing.
mkdir -p "$TMP/many/ck/extra"
for i in $(seq 1 1500); do : >"$TMP/many/ck/extra/f$i"; done
s3_put_dir "$TMP/many/ck" "s3://$B/ck" || fail "upload of 1,500 objects"
expect_exit 0 -- "$CKPT" inspect "s3://$B/ck"
expect_out "$n_local snapshots, 0 incomplete"
s3_faults '{"fail_list_page": 2}' >/dev/null
expect_exit 2 -- "$CKPT" inspect "s3://$B/ck"
expect_err "s3://$B/ck/: ListObjectsV2 page 2: HTTP 500"
s3_faults clear >/dev/null

# Faults the client must ride out: the same answer as without them.
"$CKPT" inspect "s3://$B/ck" >"$TMP/clean.txt" 2>&1
"$CKPT" inspect --files --json "s3://$B/ck/$job/$latest_name" >"$TMP/clean.json" 2>&1
s3_faults '{"error_rate": 0.15, "error_status": 503, "slowdown_rate": 0.1, "cut_get_rate": 0.3, "seed": 7}' >/dev/null
expect_exit 0 -- "$CKPT" inspect "s3://$B/ck"
cmp -s "$TMP/out" "$TMP/clean.txt" || fail "inspect under faults differs from inspect without them"
expect_exit 0 -- "$CKPT" inspect --files --json "s3://$B/ck/$job/$latest_name"
cmp -s "$TMP/out" "$TMP/clean.json" || fail "inspect --json under faults differs"
checks=$((checks + 2))
s3_faults clear >/dev/null

finish
