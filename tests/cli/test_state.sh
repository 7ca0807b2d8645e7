#!/usr/bin/env bash
# ckpt state and ckpt inspect --states end to end. On the bundled pipeline's snapshots, all in
# Flink's format: every entry decodes, the final counts of the last checkpoint equal the job's
# committed output (hashmap and RocksDB), --key, and the usage errors. On the real fixtures (when present): the values Flink's
# migration ITCases wrote, --key against a filtered full dump (Flink's key-group hash), a heap
# checkpoint and a canonical RocksDB savepoint of the same job giving the same entries, native
# RocksDB savepoints (read through RocksDB) against canonical ones, Avro and
# Kryo values, CSV, the JSON report against its schema, RocksDB sizes from table properties, and a
# damaged payload named by file and byte offset.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

# --- the bundled pipeline -----------------------------------------------------------------------
"$CKPT" run --generate 20000 --rate 20000 -p 1 --output "$TMP/pl-out" \
  -D execution.checkpointing.interval=20ms -D "state.checkpoints.dir=$TMP/ck" --keep-checkpoints \
  -D execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION >"$TMP/run" 2>&1 ||
  fail "the pipeline failed: $(tail -3 "$TMP/run")"
chk=$(latest_checkpoint "$TMP/ck")
checks=$((checks + 1))
[ -n "$chk" ] || fail "the pipeline left no checkpoint"
# Every payload of the pipeline is in Flink's format: nothing on stderr but the count.
expect_exit 0 -- "$CKPT" state "$chk"
check_eq "problems in the pipeline's snapshot" "$(grep -vc 'note:' "$TMP/err")" 0
# The final counts in the last checkpoint (taken after the end of input) are the final counts the
# job committed ("F word total" lines): the same words, the same numbers.
checks=$((checks + 1))
jq -r 'select(.state == "count") | "\(.key)\t\(.value)"' "$TMP/out" | sort > "$TMP/state-counts"
cat "$TMP/pl-out"/part-* | awk -F'\t' '$1 == "F" { print $2 "\t" $3 }' | sort > "$TMP/output-counts"
[ -s "$TMP/output-counts" ] && cmp -s "$TMP/state-counts" "$TMP/output-counts" ||
  fail "the counts in the last checkpoint differ from the committed final counts: $(diff "$TMP/state-counts" "$TMP/output-counts" | head -3)"
# The source's splits: one SourceReaderState element (byte[], shown as base64) per split.
expect_exit 0 -- "$CKPT" state "$chk" --uid source
check_ge "the source's splits are listed" "$(grep -c '"state":"SourceReaderState","kind":"OPERATOR_LIST"' "$TMP/out")" 1
checks=$((checks + 1))
grep -q '"kind":"VALUE"' "$TMP/out" && fail "the source has no keyed state"
# --key: the key group Flink's hash gives, the same entries as the full dump's.
word=$(head -1 "$TMP/state-counts" | cut -f1)
expect_exit 0 -- "$CKPT" state "$chk" --uid counter --state count --key "\"$word\""
check_eq "--key $word" "$(jq -r '"\(.key)\t\(.value)"' "$TMP/out")" "$(head -1 "$TMP/state-counts")"
expect_exit 0 -- "$CKPT" inspect --states "$chk"
expect_out "SourceReaderState +OPERATOR_LIST"
expect_out "count +VALUE +String +VoidNamespace +Long"
expect_out "window-contents +VALUE +String +TimeWindow +Long"
expect_exit 1 -- "$CKPT" state "$chk" --uid nosuch
expect_err "^ckpt state: no operator with uid nosuch"
expect_exit 2 -- "$CKPT" state "$chk" --format xml
expect_err "^ckpt state: --format xml: expected jsonl or csv"
expect_exit 2 -- "$CKPT" state "$chk" --uid counter --operator 0da08f51eaa85fc298e176a139b3649a
expect_exit 2 -- "$CKPT" state "$TMP/nothing-here"
expect_err "nothing-here"
expect_exit 2 -- "$CKPT" inspect --states "$TMP/ck" --summary

# A RocksDB checkpoint of the pipeline: its meta stream is Flink's keyed proxy, so the counts are
# read through RocksDB and decoded (String key, VoidNamespace, Long); the heap timers are Flink's
# raw keyed timers.
"$CKPT" run --generate 20000 --rate 20000 -p 1 --output "$TMP/rk-out" -D state.backend.type=rocksdb \
  -D execution.checkpointing.interval=20ms -D "state.checkpoints.dir=$TMP/rk" --keep-checkpoints \
  -D execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION >"$TMP/run" 2>&1 ||
  fail "the RocksDB pipeline failed: $(tail -3 "$TMP/run")"
rchk=$(latest_checkpoint "$TMP/rk")
expect_exit 0 -- "$CKPT" state "$rchk"
check_eq "problems in the RocksDB checkpoint" "$(grep -vc 'note:' "$TMP/err")" 0
jq -r 'select(.state == "count") | "\(.key)\t\(.value)"' "$TMP/out" | sort > "$TMP/rk-counts"
cat "$TMP/rk-out"/part-* | awk -F'\t' '$1 == "F" { print $2 "\t" $3 }' | sort > "$TMP/rk-output-counts"
checks=$((checks + 1))
[ -s "$TMP/rk-counts" ] && cmp -s "$TMP/rk-counts" "$TMP/rk-output-counts" ||
  fail "the RocksDB checkpoint's counts differ from the committed final counts"
expect_exit 0 -- "$CKPT" inspect --states "$rchk" --uid counter
expect_out "count +VALUE +String +VoidNamespace +Long"
expect_out "_timer_state/event_user-timers +TIMERS"

# The pipeline's savepoints: canonical (tag 7, the canonical layout) of the hashmap and RocksDB
# backends, and native RocksDB; every entry decodes, timers included.
pipeline_snapshots
for sp in "$PL_SP_HEAP" "$PL_SP_CANONICAL" "$PL_SP_NATIVE"; do
  expect_exit 0 -- "$CKPT" state "$sp"
  check_eq "problems in $sp" "$(grep -vc 'note:' "$TMP/err")" 0
  check_ge "counts in $sp" "$(grep -c '"state":"count","kind":"VALUE"' "$TMP/out")" 1
  check_ge "windows in $sp" "$(grep -c '"state":"window-contents","kind":"VALUE"' "$TMP/out")" 1
done

if have_fixtures; then
  F=$FIXTURES
  # TypeSerializerSnapshotMigrationITCase writes ValueState "testState": Tuple1(k) -> k for k = 0..3
  # (flink-tests); its 1.16 heap checkpoint (heap layout) and RocksDB savepoint (canonical layout,
  # keyed handle tag 7) hold the same state.
  heap=$F/type-serializer-snapshot-migration-itcase-flink1.16-hashmap-checkpoint
  rocks=$F/type-serializer-snapshot-migration-itcase-flink1.16-rocksdb-savepoint
  expect_exit 0 -- "$CKPT" state "$heap" --state testState
  cp "$TMP/out" "$TMP/heap.jsonl"
  checks=$((checks + 1))
  [ "$(jq -c '[.key, .value, .kind, .namespace]' "$TMP/heap.jsonl" | sort | tr '\n' ' ')" = \
    '[[0],0,"VALUE",null] [[1],1,"VALUE",null] [[2],2,"VALUE",null] [[3],3,"VALUE",null] ' ] ||
    fail "testState of the heap checkpoint: $(cat "$TMP/heap.jsonl")"
  expect_exit 0 -- "$CKPT" state "$rocks" --state testState
  checks=$((checks + 1))
  cmp -s <(jq -c 'del(.operator)' "$TMP/heap.jsonl" | sort) <(jq -c 'del(.operator)' "$TMP/out" | sort) ||
    fail "the RocksDB canonical savepoint's entries differ from the heap checkpoint's"

  # Native RocksDB savepoints (keyed tag 11, read through RocksDB) and canonical ones of the same
  # jobs hold the same entries; only processing-time timers (wall-clock) differ between the runs.
  for v in 1.16 2.3; do
    for j in new-stateful-udf-migration-itcase new-stateful-broadcast-udf-migration-itcase; do
      expect_exit 0 -- "$CKPT" state "$F/$j-flink$v-rocksdb-savepoint-native"
      grep -v processing_ "$TMP/out" | sed 's/"operator":"[0-9a-f]*",//' | sort >"$TMP/native"
      expect_exit 0 -- "$CKPT" state "$F/$j-flink$v-rocksdb-savepoint"
      checks=$((checks + 1))
      cmp -s "$TMP/native" <(grep -v processing_ "$TMP/out" | sed 's/"operator":"[0-9a-f]*",//' | sort) ||
        fail "$j $v: the native savepoint's entries differ from the canonical savepoint's"
      [ "$j" = new-stateful-udf-migration-itcase ] || continue  # the broadcast job has no keyed entries
      checks=$((checks + 1))
      grep -q '"keyGroup":[0-9]' "$TMP/native" || fail "$j $v: no keyed entries read from RocksDB"
    done
  done
  expect_exit 0 -- "$CKPT" state "$F/new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint" --key "[2]" --state state-name
  checks=$((checks + 1))
  # (four operators of the job hold a "state-name")
  [ "$(grep -c '"key":\[2\]' "$TMP/out")" = 4 ] || fail "--key on a RocksDB checkpoint: $(cat "$TMP/out")"

  # --key: serialized with the key serializer, hashed to its key group as Flink does; the result
  # equals the full dump filtered by key, for every key of a job with 4 key groups and timers.
  sp=$F/new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint
  expect_exit 0 -- "$CKPT" state "$sp"
  cp "$TMP/out" "$TMP/all.jsonl"
  for k in 0 1 2 3; do
    expect_exit 0 -- "$CKPT" state "$sp" --key "[$k]"
    checks=$((checks + 1))
    # (grep, not jq: jq rounds 64-bit timestamps to doubles)
    cmp -s <(sort "$TMP/out") <(grep -F "\"key\":[$k]," "$TMP/all.jsonl" | sort) ||
      fail "--key [$k] differs from the full dump filtered by key"
    checks=$((checks + 1))
    [ "$(wc -l <"$TMP/out")" -ge 3 ] || fail "--key [$k]: $(wc -l <"$TMP/out") lines, expected the value and two timers"
  done
  expect_exit 0 -- "$CKPT" state "$sp" --key-group 2
  checks=$((checks + 1))
  cmp -s <(sort "$TMP/out") <(grep -F '"keyGroup":2,' "$TMP/all.jsonl" | sort) || fail "--key-group 2"
  expect_exit 2 -- "$CKPT" state "$sp" --key abc
  expect_err "--key abc: 'abc' is not a long"
  expect_exit 0 -- "$CKPT" state "$sp" --limit 3
  checks=$((checks + 1))
  [ "$(wc -l <"$TMP/out")" = 3 ] || fail "--limit 3 printed $(wc -l <"$TMP/out") lines"
  expect_err "3 entries \(--limit reached\)"
  expect_exit 0 -- "$CKPT" -q state "$sp" --limit 1
  checks=$((checks + 1))
  [ ! -s "$TMP/err" ] || fail "-q: $(cat "$TMP/err")"
  expect_exit 0 -- "$CKPT" state "$sp" --format csv --state state-name
  expect_out "^operator,uid,subtask,state,kind,key_group,key,namespace,user_key,value$"
  expect_out '^d5c8b168c6cbfe8c507a10f88b325243,,1,state-name,VALUE,1,\[3\],null,,3$'

  # Avro (the writer schema from AvroSerializerSnapshot), a POJO-free Tuple of String and Integer,
  # Kryo-boxed Long keys of a Scala job, broadcast state.
  expect_exit 0 -- "$CKPT" state "$F/e2e-state-evolution-flink1.7-filesystem-savepoint" --state test-state --limit 1
  expect_out '"value":\{"num":555,"street":"555 W 42nd St","city":"New York","state":"NY","zip":"10036"\}'
  expect_exit 0 -- "$CKPT" state "$F/new-stateful-broadcast-udf-migration-itcase-flink1.20-hashmap-savepoint" --state broadcast-state-2
  expect_out '"kind":"OPERATOR_BROADCAST","keyGroup":null,"key":"[0-9]+","namespace":null,"value":[0-9]+'

  # inspect --states: its JSON report against formats/state.proto; RocksDB native state sized from
  # the SST files' table properties.
  expect_exit 0 -- "$CKPT" inspect --states --json "$F/new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint"
  checks=$((checks + 1))
  python3 "$HERE/json_schema_check.py" "$HERE/../../formats" StatesReport "$TMP/out" || fail "StatesReport schema"
  checks=$((checks + 1))
  jq -e '[.states[] | select(.source == "ROCKSDB_PROPERTIES" and .kind == "VALUE" and .entries > 0 and .sstFiles > 0)] | length > 0' \
    "$TMP/out" >/dev/null || fail "no RocksDB state sized from table properties: $(head -c 600 "$TMP/out")"
  expect_exit 0 -- "$CKPT" inspect --states "$heap"
  expect_out "testState +VALUE +Tuple1<Long> +VoidNamespace +Long +- +4 "

  # A damaged payload: named by file and byte offset, exit 1, the dump goes on.
  cp -r "$heap" "$TMP/damaged"
  payload=$(ls "$TMP"/damaged/* | grep -v _metadata | xargs ls -S | head -1)
  python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[-9] ^= 0x7f; open(p, "wb").write(b[:-3])' "$payload"
  expect_exit 1 -- "$CKPT" state "$TMP/damaged"
  expect_err "$(basename "$payload"): byte [0-9]+: "
fi
finish
