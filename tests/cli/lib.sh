# Helpers for the CLI end-to-end tests. Each test script gets the ckpt binary and the fixture
# directory as $1 and $2, and exits 0 (pass), 77 (skipped: fixtures absent) or 1 (fail).
set -uo pipefail
CKPT=$1
FIXTURES=$2
failures=0
checks=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

need_fixtures() {
  if [ ! -d "$FIXTURES" ]; then
    echo "fixtures not found at $FIXTURES: skipped"
    exit 77
  fi
}

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect_exit CODE -- command...: runs the command, checks its exit code; output in $TMP/out, $TMP/err.
expect_exit() {
  local want=$1
  shift 2
  checks=$((checks + 1))
  "$@" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  if [ "$got" != "$want" ]; then
    fail "exit $got (expected $want): $*"
    sed 's/^/  stderr: /' "$TMP/err" | head -5 >&2
  fi
}

expect_out() {
  checks=$((checks + 1))
  grep -qE -- "$1" "$TMP/out" || fail "stdout lacks /$1/"
}

expect_err() {
  checks=$((checks + 1))
  grep -qE -- "$1" "$TMP/err" || fail "stderr lacks /$1/"
}

# oracle_roundtrip FILE...: Flink's own loader reads each `_metadata` and Flink's writer rewrites it
# to the same bytes; oracle_read FILE...: Flink's loader reads it (for files made by test
# generators whose encodings Flink would write differently). The tool is
# ../shared/tools/flink-oracle beside the fixtures; a note, not a pass, when it or java is absent.
ORACLE=${CKPT_ORACLE:-$FIXTURES/../../tools/flink-oracle/flink-oracle}
oracle() {
  local mode=$1 f out
  shift
  if [ ! -x "$ORACLE" ] || ! command -v java >/dev/null 2>&1; then
    echo "note: flink-oracle or java not found: Flink's own check of $# file(s) not run" >&2
    return 0
  fi
  for f in "$@"; do
    checks=$((checks + 1))
    out=$("$ORACLE" "$mode" "$f" 2>&1 | tail -2) || fail "flink-oracle $mode $f: $out"
  done
}
oracle_roundtrip() { oracle roundtrip "$@"; }
oracle_read() { oracle read "$@"; }

finish() {
  echo "$((checks - failures)) passed, $failures failed"
  [ "$failures" -eq 0 ]
}

# latest_checkpoint DIR: the complete checkpoint (chk-N with _metadata) with the highest id under
# DIR/<job>/ (ids continue across restores, so the highest id is the latest); empty if none.
latest_checkpoint() {
  local best="" best_n=-1 m n
  for m in "$1"/*/chk-*/_metadata; do
    [ -f "$m" ] || continue
    n=${m%/_metadata}
    n=${n##*/chk-}
    if [ "$n" -gt "$best_n" ]; then best_n=$n; best=${m%/_metadata}; fi
  done
  echo "$best"
}

# wait_for_checkpoints DIR N PID: waits (at most 60 s) until N checkpoints have completed under
# DIR since the call, or until process PID has ended. Tests wait for events, never for wall time,
# so that they hold on a loaded machine.
wait_for_checkpoints() {
  local dir=$1 want=$2 pid=$3 start now i
  start=$(latest_checkpoint "$dir"); start=${start##*/chk-}; start=${start:-0}
  for ((i = 0; i < 3000; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    now=$(latest_checkpoint "$dir"); now=${now##*/chk-}; now=${now:-0}
    [ "$now" -ge $((start + want)) ] && return 0
    sleep 0.02
  done
  fail "no $want checkpoints under $dir within 60 s"
}
