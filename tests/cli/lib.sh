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

finish() {
  echo "$((checks - failures)) passed, $failures failed"
  [ "$failures" -eq 0 ]
}
