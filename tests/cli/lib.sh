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

# --- crafted snapshots (a corrupt or hostile `_metadata`, made from a real one) ---------------

# craft EXPORT OUT MODE ARG (python3): rewrites the first matching handle of a `convert --to json` export.
#   relative-to-absolute PATH   the first relative file handle becomes file:PATH with size -1
#   shared-to DIR               the first shared file of every RocksDB handle is copied into DIR
#                               (same name and size) and the handle names the copy
#   size N                      the first file handle records N bytes
craft() {
  python3 - "$@" <<'PY'
import json, os, shutil, sys
src, dst, mode, arg = sys.argv[1:5]
d = json.load(open(src))
done = []
def walk(o):
    if isinstance(o, dict):
        for k, v in list(o.items()):
            if mode == "relative-to-absolute" and k == "relativeFile" and not done:
                del o[k]
                o["file"] = {"path": "file:" + arg, "size": "-1"}
                done.append(1)
                return
            if mode == "shared-to" and k == "sharedFiles" and isinstance(v, list) and v:
                h = v[0]["handle"]["file"]
                old = h["path"][len("file:"):]
                new = os.path.join(arg, os.path.basename(old))
                shutil.copyfile(old, new)
                h["path"] = "file:" + new
                done.append(1)
            if mode == "size" and k in ("file", "relativeFile") and isinstance(v, dict) and "size" in v and not done:
                v["size"] = arg
                done.append(1)
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(d)
assert done, "nothing to craft"
json.dump(d, open(dst, "w"))
PY
}

# write_crafted SNAPSHOT DIR MODE ARG: DIR/_metadata = SNAPSHOT's model crafted, beside hard links
# of SNAPSHOT's own files (a sibling chk-N, so that relative handles still resolve).
write_crafted() {
  local snap=$1 dir=$2 f
  [ -d "$snap" ] || { fail "write_crafted: $snap is not a snapshot directory"; return 1; }
  mkdir -p "$dir"
  "$CKPT" convert "$snap" --to json >"$TMP/export.json" || fail "export $snap"
  craft "$TMP/export.json" "$TMP/crafted.json" "$3" "$4" || fail "craft $3"
  "$CKPT" convert "$TMP/crafted.json" --from json --to flink -o "$dir/_metadata" --keep-relative >/dev/null ||
    fail "write crafted $dir"
  for f in "$snap"/*; do [ "$(basename "$f")" = _metadata ] || ln "$f" "$dir/"; done
}
