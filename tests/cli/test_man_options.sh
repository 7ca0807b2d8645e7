#!/usr/bin/env bash
# Every option a subcommand registers (as `ckpt CMD --help` lists it) is documented in its man
# page, man/ckpt-CMD.1 (ckpt-restore(1) documents its options as those of ckpt-run(1)); -h/--help
# is documented once, in ckpt(1). Every subcommand has a man page.
source "$(dirname "$0")/lib.sh"
MAN=$(cd "$(dirname "$0")/../../man" && pwd)

commands=$("$CKPT" --help | awk 'tolower($0) ~ /^subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1}')
checks=$((checks + 1))
[ -n "$commands" ] || fail "ckpt --help lists no subcommands"
for cmd in $commands; do
  page=$MAN/ckpt-$cmd.1
  checks=$((checks + 1))
  if [ ! -f "$page" ]; then
    fail "$cmd: no man page ($page)"
    continue
  fi
  pages=("$page")
  [ "$cmd" = restore ] && pages+=("$MAN/ckpt-run.1")
  # The option column of --help: lines that start with spaces and a dash, up to the first
  # run of two spaces ("  -p,--parallelism INT   Parallelism ...").
  opts=$("$CKPT" "$cmd" --help | grep -E '^ +-' | sed -E 's/^ +//; s/  .*//; s/ [A-Z].*//' | tr ',' '\n' |
    grep -E '^--?[A-Za-z]' | sed 's/[ =].*//' | sort -u)
  for o in $opts; do
    [ "$o" = -h ] || [ "$o" = --help ] && continue
    checks=$((checks + 1))
    roff=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
    grep -qE -- "$roff([^a-z_-]|$)" "${pages[@]}" || fail "$cmd: option $o is not in ${pages[*]#$MAN/}"
  done
done
checks=$((checks + 1))
grep -q -- '\\-\\-help' "$MAN/ckpt.1" || fail "ckpt(1) does not document -h/--help"
finish
