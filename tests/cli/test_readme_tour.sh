#!/usr/bin/env bash
# The README's tour runs as printed: its shell blocks (between "## A tour" and the next section)
# are run in order in one shell, with `ckpt` the binary under test and /tmp/tour moved into this
# test's directory. Every command must exit 0 (`ckpt diff` may exit 1: differences found).
source "$(dirname "$0")/lib.sh"
README=$(cd "$(dirname "$0")/../.." && pwd)/README.md

mkdir -p "$TMP/bin" && ln -s "$(cd "$(dirname "$CKPT")" && pwd)/$(basename "$CKPT")" "$TMP/bin/ckpt"
# Logical commands: the sh blocks of the tour, continuation lines joined, /tmp/tour moved.
python3 - "$README" "$TMP/tour" >"$TMP/commands" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
tour = text[text.index("## A tour"):]
tour = tour[:tour.index("\n## ", 1)]
for block in re.findall(r"```sh\n(.*?)```", tour, re.S):
    block = block.replace("/tmp/tour", sys.argv[2]).replace("\\\n", " ")
    for line in block.splitlines():
        if line.strip():
            print(line)
PY
checks=$((checks + 1))
[ "$(wc -l <"$TMP/commands")" -ge 15 ] || fail "the tour has only $(wc -l <"$TMP/commands") commands"
export PATH=$TMP/bin:$PATH CKPT_RUNTIME_DIR=$TMP/runtime
mkdir -p "$TMP/tour"
while IFS= read -r cmd <&3; do
  checks=$((checks + 1))
  eval "$cmd" >"$TMP/cmd.out" 2>"$TMP/cmd.err"
  rc=$?
  allowed=0
  [[ "$cmd" == "ckpt diff "* ]] && allowed=1
  if [ "$rc" -gt "$allowed" ]; then
    fail "the tour's command exits $rc: $cmd"
    sed 's/^/  /' "$TMP/cmd.err" | tail -5 >&2
  fi
done 3<"$TMP/commands"
wait
# The tour's job and its restore really ran: committed output from both.
checks=$((checks + 1))
ls "$TMP"/tour/out/part-* >/dev/null 2>&1 || fail "the tour's job committed no output"
checks=$((checks + 1))
ls "$TMP"/tour/out2/part-* >/dev/null 2>&1 || fail "the tour's restore committed no output"
finish
