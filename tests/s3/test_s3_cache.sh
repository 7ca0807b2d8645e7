#!/usr/bin/env bash
# The cache of `_metadata` objects (storage/object_cache.h) against the local S3: a second plan of
# a root GETs no `_metadata` it already read, and answers exactly what a run without the cache
# answers, also after an object was replaced, an entry damaged, under faults, and when bounded.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../cli/lib.sh
. "$here/../cli/lib.sh" "$1" "$2"
# shellcheck source=lib_s3.sh
. "$here/lib_s3.sh"

s3_start
B=ckpt-cache
s3_mb "$B" || fail "mb $B"
export CKPT_CACHE_DIR=$TMP/cache

# A RocksDB incremental job keeping several checkpoints (shared/ files used by several), on S3.
d=$TMP/local
"$CKPT" run --generate 40000 --vocabulary 300 -p 2 --rate 20000 --keep-checkpoints --output "$d/out" \
  -D execution.checkpointing.interval=40ms -D "state.checkpoints.dir=$d/ck" -D state.checkpoints.num-retained=8 \
  -D state.backend.type=rocksdb -D state.backend.incremental=true -D "state.backend.rocksdb.localdir=$TMP/rdb" \
  >"$TMP/run.log" 2>&1 || { fail "pipeline run"; cat "$TMP/run.log" >&2; }
job=$(basename "$(ls -d "$d"/ck/*/ | head -1)")
cp -r "$d/ck" "$TMP/s3copy"
expect_exit 0 -- "$CKPT" convert --relocate "$d/ck=s3://$B/ck" --in-place "$TMP/s3copy/$job"
mkdir -p "$TMP/s3copy/$job/shared"
echo orphan >"$TMP/s3copy/$job/shared/orphan-1"
s3_put_dir "$TMP/s3copy" "s3://$B/ck" || fail "upload"
n_ck=$(ls -d "$TMP/s3copy/$job"/chk-*/_metadata | wc -l)
[ "$n_ck" -ge 2 ] || fail "the job kept $n_ck checkpoints, expected several"
sleep 1.1

# plan NAME [CONFIG...]: gc --dry-run --json and inspect --json of the root, into $TMP/NAME.*
plan() {
  local name=$1
  shift
  expect_exit 0 -- "$CKPT" gc --dry-run --json --grace 0s --now "$(($(date +%s) + 60))" "$@" "s3://$B/ck"
  sed 's/"nowUnixMs":[0-9]*,//' "$TMP/out" >"$TMP/$name.gc"
  expect_exit 0 -- "$CKPT" inspect --json "$@" "s3://$B/ck"
  cp "$TMP/out" "$TMP/$name.inspect"
}
same_as_uncached() {
  checks=$((checks + 1))
  cmp -s "$TMP/$1.gc" "$TMP/nocache.gc" || fail "$1: gc's plan differs from the uncached one"
  cmp -s "$TMP/$1.inspect" "$TMP/nocache.inspect" || fail "$1: inspect differs from the uncached one"
}

# --- the reference, without the cache (-D, overriding the environment) ----------------------------
s3_stats reset >/dev/null
plan nocache -D ckpt.cache.dir=none
check_eq "uncached: GETs of _metadata (gc and inspect)" "$(s3_stat by_operation GetObject)" "$((2 * n_ck))"
[ -e "$TMP/cache" ] && fail "-D ckpt.cache.dir=none still wrote a cache"
grep -q "orphan-1" "$TMP/nocache.gc" || fail "the uncached plan misses the orphan"

# --- first run fills the cache, the second GETs nothing ------------------------------------------
s3_stats reset >/dev/null
plan cold
check_eq "cold: gc reads each _metadata once, inspect then reads none" "$(s3_stat by_operation GetObject)" "$n_ck"
check_eq "cold: entries" "$(ls "$TMP/cache/objects" | wc -l)" "$n_ck"
same_as_uncached cold
s3_stats reset >/dev/null
plan warm
check_eq "warm: GETs" "$(s3_stat by_operation GetObject)" 0
same_as_uncached warm

# --- a damaged entry is read again, not believed ---------------------------------------------------
entry=$(ls "$TMP/cache/objects"/* | head -1)
python3 - "$entry" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[-5] ^= 0x01
open(p, "wb").write(b)
PY
s3_stats reset >/dev/null
plan damaged
check_eq "damaged entry: GETs" "$(s3_stat by_operation GetObject)" 1
same_as_uncached damaged

# --- an object replaced under the same key: its new ETag misses ------------------------------------
first=$(ls -d "$TMP/s3copy/$job"/chk-*/ | sort -V | head -1)
last=$(ls -d "$TMP/s3copy/$job"/chk-*/ | sort -V | tail -1)
s3_aws s3 cp --quiet "$last/_metadata" "s3://$B/ck/$job/$(basename "$first")/_metadata" || fail "replace"
sleep 1.1
plan nocache2 -D ckpt.cache.dir=none
mv "$TMP/nocache2.gc" "$TMP/nocache.gc" && mv "$TMP/nocache2.inspect" "$TMP/nocache.inspect"
s3_stats reset >/dev/null
plan replaced
check_eq "replaced object: GETs" "$(s3_stat by_operation GetObject)" 1
same_as_uncached replaced

# --- under faults (503, SlowDown, GETs cut half-way) the answers stay the same -----------------------
rm -rf "$TMP/cache"
s3_faults '{"error_rate": 0.2, "error_status": 503, "slowdown_rate": 0.1, "cut_get_rate": 0.3, "seed": 5}' >/dev/null
plan faults
s3_faults clear >/dev/null
same_as_uncached faults
s3_stats reset >/dev/null
plan faults-warm
check_eq "after faults: GETs" "$(s3_stat by_operation GetObject)" 0

# --- bounded: ckpt.cache.max-size keeps the directory under it -----------------------------------
# Room for 4 of the largest entry (an entry may take at most a quarter of the bound).
size=$(ls -l "$TMP/cache/objects"/* | awk '$5 > m { m = $5 } END { print m + 0 }')
rm -rf "$TMP/cache"
bound=$((size * 9 / 2))
plan bounded -D "ckpt.cache.max-size=$bound"
total=$(du -cb "$TMP/cache/objects"/* | tail -1 | cut -f1)
entries=$(ls "$TMP/cache/objects" | wc -l)
checks=$((checks + 1))
[ "$total" -le "$bound" ] && [ "$entries" -ge 3 ] && [ "$entries" -lt "$n_ck" ] ||
  fail "a cache bounded to $bound bytes ($n_ck objects of up to $size) holds $entries entries, $total bytes"
same_as_uncached bounded

# --- a malformed bound is a usage error ---------------------------------------------------------
expect_exit 2 -- "$CKPT" gc --dry-run -D ckpt.cache.max-size=lots "s3://$B/ck"
expect_err "ckpt.cache.max-size"

finish
