#!/usr/bin/env bash
# Runs the benchmarks in one process each, every figure beside its baseline from the same run.
# Usage: [CKPT_BENCH_PREVIOUS=BUILD_DIR] bash tests/bench/run.sh [SECTION...]
#   sections: metadata, validate, convert, prune, pipeline, pipeline-rocksdb, rocksdb, state, compact, s3;
#   default: all but pipeline-rocksdb (which pipeline includes) and s3 (needs s3rver: install-deps)
set -euo pipefail
cd "$(dirname "$0")/../.."
fixtures=${CKPT_FIXTURES:-../shared/fixtures/flink}
work=${CKPT_BENCH_DIR:-/tmp/ckpt-bench}
mkdir -p "$work"

cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc 2>/dev/null || echo 2)"
bin=build/release

SECTIONS="${*:-metadata validate convert prune pipeline rocksdb state compact}"
now_ns() { date +%s%N; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }
best3() { # best of 3 wall-clock times of a command (stdout discarded), in ns
  local b=0 t0 t1
  for _ in 1 2 3; do t0=$(now_ns); "$@" > /dev/null; t1=$(now_ns); if [ $b -eq 0 ] || [ $((t1 - t0)) -lt $b ]; then b=$((t1 - t0)); fi; done
  echo $b
}

if [[ " $SECTIONS " == *" metadata "* ]]; then
  echo "== _metadata reader"
  "$bin/tests/bench/bench_metadata" "$fixtures" "$work"
  syn="$work/synthetic-50x200/chk-1000/_metadata"
  "$bin/tests/bench/bench_metadata" --parse-once "$syn"
  # inspect --json (the whole snapshot as one document) against cat of the same JSON file: wall
  # time (best of 3) and peak RSS (targets: < 0.5 s, peak < 2x the _metadata).
  /usr/bin/time -f "%M" -o "$work/inspect.rss" "$bin/ckpt" inspect --json "$(dirname "$syn")" > "$work/inspect.json"
  t_ins=$(best3 "$bin/ckpt" inspect --json "$(dirname "$syn")")
  t_cat=$(best3 cat "$work/inspect.json")
  ins_kib=$(cat "$work/inspect.rss")
  md_kib=$(( $(stat -c %s "$syn") / 1024 ))
  echo "ckpt inspect --json of the synthetic snapshot: $(secs $t_ins) s, peak RSS $((ins_kib / 1024)) MiB" \
       "($(stat -c %s "$work/inspect.json") bytes of JSON; peak / _metadata size = $(awk -v a=$ins_kib -v b=$md_kib 'BEGIN{printf "%.2f", a/b}');" \
       "targets < 0.5 s, < 2)"
  echo "cat of the same JSON: $(secs $t_cat) s; inspect / cat = $(awk -v a=$t_ins -v b=$t_cat 'BEGIN{ if (b > 0) printf "%.1f", a/b; else print "inf" }')x"
fi

if [[ " $SECTIONS " == *" validate "* ]]; then
  # ckpt validate --deep over >= 2 GiB of real SST files (warm cache) against sst_dump's verify
  # (single-threaded, the same RocksDB checksum code) and cat (the read limit), in one run.
  echo "== validate --deep"
  data="$work/validate-ssts"
  [ -f "$data/_metadata" ] || "$bin/tests/bench/bench_validate" "$data" "${CKPT_BENCH_VALIDATE_GIB:-2.2}"
  bytes=$(du -cb "$data"/*.sst | tail -1 | cut -f1)
  cat "$data"/*.sst > /dev/null; cat "$data"/*.sst > /dev/null   # warm the page cache
  t_cat=$(best3 sh -c "cat \"$data\"/*.sst")
  t_sst=$(best3 sst_dump --command=verify --file="$data")
  t_val=$(best3 "$bin/ckpt" validate --deep "$data")
  t_val1=$(best3 "$bin/ckpt" validate --deep --threads 1 "$data")
  gib=$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1073741824 }')
  echo "data: $gib GiB of SST files in $(ls "$data"/*.sst | wc -l) files, page cache warm, $(nproc) cores"
  echo "cat > /dev/null (read limit):          $(secs $t_cat) s"
  echo "sst_dump --command=verify:             $(secs $t_sst) s"
  echo "ckpt validate --deep (all cores):      $(secs $t_val) s   sst_dump/ckpt = $(awk -v a=$t_sst -v b=$t_val 'BEGIN{printf "%.2f", a/b}')x faster (target > 1); ckpt/cat = $(awk -v a=$t_val -v b=$t_cat 'BEGIN{printf "%.2f", a/b}') (target <= 1.3)"
  echo "ckpt validate --deep --threads 1:      $(secs $t_val1) s   ckpt/cat = $(awk -v a=$t_val1 -v b=$t_cat 'BEGIN{printf "%.2f", a/b}')"
fi

if [[ " $SECTIONS " == *" convert "* ]]; then
  echo "== convert --self-contained and pack (>= 2 GiB incremental checkpoint)"
  "$bin/tests/bench/bench_convert" "$work" 2.2
fi

if [[ " $SECTIONS " == *" prune "* ]]; then
  echo "== prune / gc (1,000 checkpoints x 200 subtasks, ~100 K shared files, made with the writer)"
  src="$work/prune-src"
  if [ ! -d "$src" ]; then
    "$bin/tests/bench/bench_prune" gen "$src" 1000 200 5 2 11
  fi
  NOW=1800000000
  echo "load before: $(uptime)"
  # Plan: wall time and peak RSS of a dry run (--json to a file: every deletion is listed), and the
  # same pass in-process phase by phase.
  /usr/bin/time -f "%e %U %S %M" -o "$work/plan.time" \
    "$bin/ckpt" prune "$src" --retain 10 --dry-run --json --now $NOW > "$work/plan.json"
  /usr/bin/time -f "%e %U %S %M" -o "$work/gcplan.time" "$bin/ckpt" gc "$src" --dry-run --now $NOW > /dev/null
  read -r plan_s plan_u plan_sys plan_kib < "$work/plan.time"
  read -r gc_s gc_u gc_sys gc_kib < "$work/gcplan.time"
  echo "plan (prune --retain 10 --dry-run --json): ${plan_s} s wall (${plan_u} s user, ${plan_sys} s sys)," \
       "peak RSS $((plan_kib / 1024)) MiB (targets < 2 s, < 500 MB)"
  echo "plan (gc --dry-run): ${gc_s} s wall (${gc_u} s user, ${gc_sys} s sys), peak RSS $((gc_kib / 1024)) MiB"
  "$bin/tests/bench/bench_prune" plan "$src" 10 $NOW
  # Apply against rm of the same files, each on a fresh copy (cp -a keeps the mtimes). The file
  # list comes from a dry run on the copy itself: the writer's handles are absolute, so the copy's
  # checkpoints still name the source's shared files and its own pool files are orphans there.
  rm -rf "$work/prune-a" "$work/prune-b"
  cp -a "$src" "$work/prune-a"
  cp -a "$src" "$work/prune-b"
  "$bin/ckpt" prune "$work/prune-b" --retain 10 --dry-run --json --now $NOW > "$work/plan-b.json"
  python3 - "$work/plan-b.json" "$work/prune-b" "$work/rm-list" "$work/rmdir-list" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
src = sys.argv[2]
with open(sys.argv[3], "w") as f, open(sys.argv[4], "w") as g:
    for x in d["deletions"]:
        rel = x["path"][len(src) + 1:]
        (g if x["type"] == "DIRECTORY" else f).write(rel + "\n")
t = d["totals"]
print(f"plan on the copy: keep {t['kept']} of {t['snapshots']} checkpoints, delete {t['filesDeleted']} files and "
      f"{t['directoriesDeleted']} directories")
PY
  sync
  t0=$(now_ns)
  (cd "$work/prune-b" && xargs -d '\n' rm -f < "$work/rm-list" && xargs -d '\n' rmdir < "$work/rmdir-list")
  sync
  t1=$(now_ns)
  rm_ns=$((t1 - t0))
  echo "rm + rmdir of the same files (baseline, sync to sync): $(secs $rm_ns) s"
  # apply_plan alone, sync to sync (the plan before it is untimed; its cost is reported above).
  apply_line=$("$bin/tests/bench/bench_prune" apply "$work/prune-a" 10 $NOW)
  echo "$apply_line"
  apply_s=$(echo "$apply_line" | awk '{print $2}')
  echo "ckpt prune apply / rm: $(awk -v a="$apply_s" -v r=$rm_ns 'BEGIN{printf "%.2f", a * 1e9 / r}')x (target <= 1.2x)"
  diff <(cd "$work/prune-a" && find . | sort) <(cd "$work/prune-b" && find . | sort) > /dev/null \
    && echo "prune and rm left identical trees" || echo "WARNING: prune and rm left different trees"
  echo "load after: $(uptime)"
  rm -rf "$work/prune-a" "$work/prune-b"
fi

if [[ " $SECTIONS " == *" pipeline "* ]]; then
  # The bundled pipeline (P = 2, hashmap): records/s through the whole job with checkpointing off
  # and every 1 s, beside the generator alone; checkpoint duration, size and restore time at 1 M
  # and 10 M keys, beside a plain write+fsync of the same bytes.
  # CKPT_BENCH_PREVIOUS=DIR (the release build directory of an earlier revision): its
  # bench_pipeline runs too, alternating with this one twice, so both see the same machine.
  echo "== pipeline"
  rounds=1
  [ -n "${CKPT_BENCH_PREVIOUS:-}" ] && rounds=2
  for round in $(seq 1 $rounds); do
    for b in "$bin" ${CKPT_BENCH_PREVIOUS:+"$CKPT_BENCH_PREVIOUS"}; do
      [ $rounds -gt 1 ] && echo "-- round $round: $b"
      "$b/tests/bench/bench_pipeline" "$work/pipeline" "${CKPT_BENCH_PIPELINE_RECORDS:-30000000}"
      rm -rf "$work/pipeline"
    done
  done
fi

if [[ " $SECTIONS " == *" pipeline-rocksdb "* ]]; then
  # The pipeline's RocksDB case alone (also part of "pipeline"): P = 2, checkpointing off and
  # incremental every 1 s, interleaved, best of 3, with the load average.
  echo "== pipeline, rocksdb backend"
  uptime
  "$bin/tests/bench/bench_pipeline" "$work/pipeline" "${CKPT_BENCH_PIPELINE_RECORDS:-5000000}" rocksdb
  rm -rf "$work/pipeline"
fi

if [[ " $SECTIONS " == *" rocksdb "* ]]; then
  # The pipeline's RocksDB backend at ~1 GiB of state: checkpoint (sync + upload) and restore
  # (hard links + open), beside cp of the same files.
  echo "== rocksdb state (~1 GiB)"
  "$bin/tests/bench/bench_rocksdb_state" "$work" "${CKPT_BENCH_ROCKSDB_GIB:-1.0}"
fi

if [[ " $SECTIONS " == *" state "* ]]; then
  # ckpt state --format jsonl of ~1 GiB of native RocksDB state (Flink's meta files: every entry
  # decoded) against sst_dump --command=scan of the same SST files (hex, not decoded), in one run;
  # ckpt's peak memory at the full size and at a quarter of it (streamed: it must not grow); and
  # inspect --states of the same snapshot (table properties only; target < 1 s).
  echo "== state contents (native RocksDB)"
  gib=${CKPT_BENCH_STATE_GIB:-1.0}
  for size in "$gib" "$(awk -v g="$gib" 'BEGIN { print g / 4 }')"; do
    d="$work/state-$size"
    [ -f "$d/made" ] || { rm -rf "$d"; "$bin/tests/bench/bench_state" "$d" "$size" > "$d.out" && mv "$d.out" "$d/made"; }
  done
  d="$work/state-$gib"
  snap=$(head -1 "$d/made")
  read -r files bytes < <(sed -n 2p "$d/made")
  ssts=("$d"/dbs/*-checkpoint)
  scan_all() { for c in "${ssts[@]}"; do sst_dump --file="$c" --command=scan --output_hex || return 1; done; }
  find "$d" -type f -exec cat {} + > /dev/null  # warm the page cache
  t_scan=$(best3 scan_all)
  t_state=$(best3 "$bin/ckpt" state -q --format jsonl "$snap")
  lines=$("$bin/ckpt" state -q --format jsonl "$snap" | wc -l)
  /usr/bin/time -f "%M" -o "$work/state.rss" "$bin/ckpt" state -q --format jsonl "$snap" > /dev/null
  q=$(head -1 "$work/state-$(awk -v g="$gib" 'BEGIN { print g / 4 }')/made")
  /usr/bin/time -f "%M" -o "$work/state-q.rss" "$bin/ckpt" state -q --format jsonl "$q" > /dev/null
  t_states=$(best3 "$bin/ckpt" inspect --states "$snap")
  echo "data: $(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1073741824 }') GiB in $files RocksDB files (2 subtasks), $lines entries; page cache warm"
  echo "sst_dump --command=scan --output_hex of the same SST files: $(secs $t_scan) s"
  echo "ckpt state --format jsonl (decoded):  $(secs $t_state) s = $(awk -v a=$t_scan -v b=$t_state 'BEGIN{printf "%.2f", a/b}')x sst_dump's throughput (target >= 1)"
  echo "ckpt state peak RSS: $(( $(cat "$work/state.rss") / 1024 )) MiB at $gib GiB, $(( $(cat "$work/state-q.rss") / 1024 )) MiB at a quarter of it (streamed: flat)"
  echo "ckpt inspect --states: $(secs $t_states) s (target < 1 s)"
fi

if [[ " $SECTIONS " == *" compact "* ]]; then
  # ckpt compact of an incremental checkpoint over 4 real RocksDB databases (~300 MiB in ~500 small
  # table files, keys overwritten ~6 times): files and bytes before/after, beside cat of the same
  # files and RocksDB's own CompactRange / ldb compact of the same databases.
  echo "== compact (~300 MiB, ~500 table files)"
  "$bin/tests/bench/bench_compact" "$work" "${CKPT_BENCH_COMPACT_MB:-300}"
fi

if [[ " $SECTIONS " == *" s3 "* ]]; then
  # Against the tests' local S3 (s3rver behind tests/s3/strict_proxy.py, which checks every SigV4
  # signature), so both ckpt and its baselines pay the same proxy: the ratios, not the absolute
  # figures, say how ckpt uses S3.
  # Duration (2 cores shared with two compiling jobs, load 5-10, 2026-12-03): ~4-5 min with
  # CKPT_BENCH_S3_CHECKPOINTS=100 CKPT_BENCH_S3_VALIDATE_GIB=0.05 (the trees cached). Full scale
  # (the defaults), estimated from those runs, not run: about 1 hour, the first run ~6 min more
  # to generate the trees (kept in $CKPT_BENCH_DIR). Most of it: uploading ~200,000 objects
  # (100,297 + 2 x 49,995) at 250-400 PUT/s, ~10 min; aws s3 rm of 49,995 keys, one request each
  # at ~100/s, ~18 min; gc apply ~12 min; aws s3 ls --recursive of 100,297 objects 3 times, ~5
  # min. s3rver's delete reads the key's directory (readdir, ~140 ms at 100,000 entries) to remove
  # it when empty, so deleting the abandoned job's ~17,000 shared/ objects costs both gc and aws
  # ~10 min of server time; that estimate is the least certain.
  echo "== object storage (local S3 on 127.0.0.1: s3rver behind the strict SigV4 proxy)"
  s3dir="$work/s3"
  rm -rf "$s3dir" && mkdir -p "$s3dir"
  bash tests/s3/s3_server.sh start "$s3dir" --bucket ckpt-bench >/dev/null
  trap 'bash tests/s3/s3_server.sh stop "$s3dir" >/dev/null 2>&1' EXIT
  # shellcheck disable=SC1091
  . "$s3dir/env"
  export CKPT_CACHE_DIR=none  # every measure reads what it plans from the server, unless it says so
  # 1. A root of N checkpoints x S subtasks, as the local prune benchmark makes it (a window of 5
  #    shared files per subtask, a new one every 2nd checkpoint), relocated to its s3:// home and
  #    uploaded: N*S exclusive + 5*S + (N-1)*S/2 shared + N _metadata objects. The default,
  #    1,000 x 66, is 100,297 objects (the issue's 100,000 objects in 1,000 checkpoints).
  n=${CKPT_BENCH_S3_CHECKPOINTS:-1000}; st=${CKPT_BENCH_S3_SUBTASKS:-66}
  src="$work/s3-src-$n-$st"
  if [ ! -d "$src" ]; then
    "$bin/tests/bench/bench_prune" gen "$src.tmp" "$n" "$st" 5 2 11 >/dev/null
    for job in "$src.tmp"/*/; do "$bin/ckpt" convert --relocate "$src.tmp=s3://ckpt-bench/root" --in-place "$job" >/dev/null; done
    mv "$src.tmp" "$src"
  fi
  "$bin/tests/bench/bench_s3" put-dir "$src" s3://ckpt-bench/root | sed 's/^/upload (bench_s3 put-dir): /'
  objects=$("$bin/tests/bench/bench_s3" list s3://ckpt-bench/root | cut -d' ' -f1)
  t_list=$(best3 "$bin/tests/bench/bench_s3" list s3://ckpt-bench/root)
  t_awsls=$(best3 /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" s3 ls --recursive s3://ckpt-bench/root/)
  t_inspect=$(best3 "$bin/ckpt" inspect s3://ckpt-bench/root)
  /usr/bin/time -f "%M" -o "$work/s3-inspect.rss" "$bin/ckpt" inspect s3://ckpt-bench/root > /dev/null
  echo "root: $objects objects, $n checkpoints x $st subtasks"
  echo "bare paged listing (ckpt's client, bench_s3 list): $(secs $t_list) s; aws s3 ls --recursive: $(secs $t_awsls) s"
  echo "ckpt inspect of the root (listing + every _metadata): $(secs $t_inspect) s = $(awk -v a=$t_inspect -v b=$t_list 'BEGIN{printf "%.2f", a/b}')x the bare listing; peak RSS $(( $(cat "$work/s3-inspect.rss") / 1024 )) MiB"
  # The floor of any plan of the root: its listing and a GET of every _metadata, by the same client.
  t_listread=$(best3 "$bin/tests/bench/bench_s3" list-read s3://ckpt-bench/root _metadata)
  echo "listing + GET of every _metadata (bench_s3 list-read): $(secs $t_listread) s"
  if "$bin/ckpt" gc --dry-run --grace 0s s3://ckpt-bench/root > /dev/null 2>&1; then
    # Cold: no _metadata cache (each run its own empty one); warm: the cache a previous run left,
    # as a periodic gc finds it (storage/object_cache.h).
    cold() { CKPT_CACHE_DIR="$work/s3-cache-cold-$(now_ns)" "$@"; }
    t_gc=$(best3 cold "$bin/ckpt" gc --dry-run s3://ckpt-bench/root)
    rm -rf "$work"/s3-cache-cold-*
    /usr/bin/time -f "%M" -o "$work/s3-gc.rss" env CKPT_CACHE_DIR=none "$bin/ckpt" gc --dry-run s3://ckpt-bench/root > /dev/null
    echo "ckpt gc --dry-run, cold cache: $(secs $t_gc) s = $(awk -v a=$t_gc -v b=$t_list 'BEGIN{printf "%.2f", a/b}')x the bare listing," \
         "$(awk -v a=$t_gc -v b=$t_listread 'BEGIN{printf "%.2f", a/b}')x listing + GETs; peak RSS $(( $(cat "$work/s3-gc.rss") / 1024 )) MiB (target <= 300)"
    rm -rf "$work/s3-cache-warm"
    CKPT_CACHE_DIR="$work/s3-cache-warm" "$bin/ckpt" gc --dry-run s3://ckpt-bench/root > /dev/null
    t_gcw=$(best3 env CKPT_CACHE_DIR="$work/s3-cache-warm" "$bin/ckpt" gc --dry-run s3://ckpt-bench/root)
    /usr/bin/time -f "%M" -o "$work/s3-gcw.rss" env CKPT_CACHE_DIR="$work/s3-cache-warm" "$bin/ckpt" gc --dry-run s3://ckpt-bench/root > /dev/null
    echo "ckpt gc --dry-run, warm cache: $(secs $t_gcw) s = $(awk -v a=$t_gcw -v b=$t_list 'BEGIN{printf "%.2f", a/b}')x the bare listing (target <= 1.5); peak RSS $(( $(cat "$work/s3-gcw.rss") / 1024 )) MiB (target <= 300)"
  else
    echo "ckpt gc --dry-run on s3://: not available in this build"
  fi
  # 2. gc apply of ~50,000 deletions against `aws s3 rm --recursive` of the same objects, from the
  #    same bucket state. A second job of G checkpoints x S subtasks (default G = 50.2% of N: 502 x
  #    66, 49,995 objects) is added to the root with no _metadata at all (a job whose checkpoints
  #    never completed): every object of it is garbage for gc (incomplete chk-N, unreferenced
  #    shared/), nothing else in the root is. gc applies (`--grace 0s`: the objects are seconds
  #    old), then the same job is uploaded again (same keys, same bytes) and `aws s3 rm --recursive`
  #    of its prefix deletes it. Both end in the same state. Each is timed once (a deletion cannot be
  #    repeated), end to end: gc's listing of the whole root, its _metadata reads, the fresh listing
  #    before deleting and DeleteObjects in batches of 1000; aws's listing of the job's prefix and one
  #    DeleteObject per key (10 threads, its default). The job's own prefix matters on s3rver: its
  #    delete scans the key's directory (readdir) to remove empty ones, so deleting from a shared/
  #    that also held kept objects would cost gc more than aws for the server's sake alone.
  g=${CKPT_BENCH_S3_GC_CHECKPOINTS:-$((n * 502 / 1000))}
  gsrc="$work/s3-gc-src-$g-$st"
  if [ ! -d "$gsrc" ]; then
    "$bin/tests/bench/bench_prune" gen "$gsrc.tmp" "$g" "$st" 5 2 12 >/dev/null
    for job in "$gsrc.tmp"/*/; do "$bin/ckpt" convert --relocate "$gsrc.tmp=s3://ckpt-bench/root" --in-place "$job" >/dev/null; done
    find "$gsrc.tmp" -name _metadata -delete
    mv "$gsrc.tmp" "$gsrc"
  fi
  gjob=$(basename "$(ls -d "$gsrc"/*/ | head -1)")
  # The keys, from the local trees (listing a 150,000-object root through the proxy takes minutes).
  (cd "$src" && find . -type f | sed 's|^\./||' | sort) > "$work/s3-root-keys"
  (cd "$gsrc" && find . -type f | sed 's|^\./||' | sort) > "$work/s3-gc-job-keys"
  sort -m "$work/s3-root-keys" "$work/s3-gc-job-keys" > "$work/s3-gc-before"
  "$bin/tests/bench/bench_s3" put-dir "$gsrc" s3://ckpt-bench/root | sed 's/^/upload of the abandoned job (bench_s3 put-dir): /'
  sleep 1.1  # LastModified has one-second precision: --grace 0s needs the objects a second old
  /usr/bin/time -f "%e" -o "$work/s3-gcplan.time" \
    "$bin/ckpt" gc --dry-run --json --grace 0s s3://ckpt-bench/root > "$work/s3-gc-plan.json"
  python3 - "$work/s3-gc-plan.json" s3://ckpt-bench/root/ <<'PY' | sort > "$work/s3-gc-planned"
import json, sys
d, root = json.load(open(sys.argv[1])), sys.argv[2]
for x in d["deletions"]:
    if x["type"] != "DIRECTORY":
        assert x["path"].startswith(root), x["path"]
        print(x["path"][len(root):])
PY
  t0=$(now_ns)
  gc_rc=0; "$bin/ckpt" gc --grace 0s s3://ckpt-bench/root > "$work/s3-gc-apply.out" 2>&1 || gc_rc=$?
  t1=$(now_ns)
  t_gcapply=$((t1 - t0))
  "$bin/tests/bench/bench_s3" keys s3://ckpt-bench/root | sort > "$work/s3-gc-after"
  comm -23 "$work/s3-gc-before" "$work/s3-gc-after" > "$work/s3-gc-deleted"
  gc_deleted=$(wc -l < "$work/s3-gc-deleted")
  "$bin/tests/bench/bench_s3" put-dir "$gsrc" s3://ckpt-bench/root | sed 's/^/upload of the same job again (bench_s3 put-dir): /'
  t0=$(now_ns)
  /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" s3 rm --recursive "s3://ckpt-bench/root/$gjob/" > "$work/s3-rm.out"
  t1=$(now_ns)
  t_awsrm=$((t1 - t0))
  sed -n 's|^delete: s3://ckpt-bench/root/||p' "$work/s3-rm.out" | sort > "$work/s3-rm-deleted"
  aws_deleted=$(wc -l < "$work/s3-rm-deleted")
  "$bin/tests/bench/bench_s3" keys s3://ckpt-bench/root | sort > "$work/s3-rm-after"
  echo "gc apply: an abandoned job of $g checkpoints x $st subtasks, no _metadata, $(wc -l < "$work/s3-gc-job-keys")" \
       "objects, beside the $n-checkpoint job; root: $(wc -l < "$work/s3-gc-before") objects"
  echo "ckpt gc --dry-run --json of that root (untimed above, for scale): $(cat "$work/s3-gcplan.time") s," \
       "$(wc -l < "$work/s3-gc-planned") objects planned"
  echo "ckpt gc --grace 0s (apply, exit $gc_rc): $(secs $t_gcapply) s, $gc_deleted objects deleted" \
       "(gc says: $(grep '^Deleted' "$work/s3-gc-apply.out" | tail -1))"
  echo "aws s3 rm --recursive of the job's prefix (baseline): $(secs $t_awsrm) s, $aws_deleted objects deleted"
  if cmp -s "$work/s3-gc-planned" "$work/s3-gc-job-keys" && cmp -s "$work/s3-gc-deleted" "$work/s3-gc-job-keys" \
     && cmp -s "$work/s3-rm-deleted" "$work/s3-gc-job-keys" && cmp -s "$work/s3-gc-after" "$work/s3-root-keys" \
     && cmp -s "$work/s3-rm-after" "$work/s3-root-keys"; then
    echo "same objects: gc planned and deleted exactly the abandoned job's $gc_deleted keys, aws s3 rm the same keys;" \
         "both left the first job's $(wc -l < "$work/s3-root-keys") objects"
  else
    echo "WARNING: gc's plan ($(wc -l < "$work/s3-gc-planned")), gc's deletions ($gc_deleted), aws s3 rm's" \
         "($aws_deleted) and the job's keys ($(wc -l < "$work/s3-gc-job-keys")) are not one set, or a root was left" \
         "different from the first job's"
  fi
  echo "ckpt gc apply / aws s3 rm: $(awk -v a=$t_gcapply -v b=$t_awsrm 'BEGIN{printf "%.2f", a/b}')x (target <= 1)"
  # 3. validate --deep of SST objects against `aws s3 cp --recursive` of the same objects to a local
  #    directory (what operators do today before checking), in the same run.
  gib=${CKPT_BENCH_S3_VALIDATE_GIB:-1.0}
  data="$work/validate-ssts-s3-$gib"
  [ -f "$data/_metadata" ] || "$bin/tests/bench/bench_validate" "$data" "$gib" >/dev/null
  "$bin/tests/bench/bench_s3" put-dir "$data" s3://ckpt-bench/ssts | sed 's/^/upload (bench_s3 put-dir): /'
  bytes=$(du -cb "$data"/*.sst | tail -1 | cut -f1)
  cp_once() { rm -rf "$work/s3-cp"; /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp --recursive --quiet s3://ckpt-bench/ssts "$work/s3-cp"; }
  t_cp=$(best3 cp_once)
  rm -rf "$work/s3-cp"
  t_deep=$(best3 "$bin/ckpt" validate --deep s3://ckpt-bench/ssts)
  mb() { awk -v b="$bytes" -v t="$1" 'BEGIN { printf "%.0f", b / 1048576 / (t / 1e9) }'; }
  echo "SST objects: $(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1073741824 }') GiB"
  echo "aws s3 cp --recursive to a local directory: $(secs $t_cp) s ($(mb $t_cp) MiB/s)"
  echo "ckpt validate --deep s3://:                 $(secs $t_deep) s ($(mb $t_deep) MiB/s) = $(awk -v a=$t_cp -v b=$t_deep 'BEGIN{printf "%.2f", a/b}')x aws s3 cp's throughput (target >= 1)"
fi
