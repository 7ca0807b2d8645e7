#!/usr/bin/env bash
# `ckpt completion bash|zsh|fish`: the bash script loads and completes commands, options,
# option values and file names; the zsh and fish scripts pass their shell's syntax check (when the
# shell is installed) and name every command and option.
source "$(dirname "$0")/lib.sh"

expect_exit 0 -- "$CKPT" completion bash
cp "$TMP/out" "$TMP/ckpt.bash"
expect_exit 2 -- "$CKPT" completion tcsh
expect_err "^ckpt completion: "

# complete_words WORD...: the candidates the bash function offers for the last word.
complete_words() {
  bash -c '
    source "$1"; shift
    COMP_WORDS=(ckpt "$@"); COMP_CWORD=$#
    _ckpt
    printf "%s\n" "${COMPREPLY[@]}"' _ "$TMP/ckpt.bash" "$@"
}
checks=$((checks + 1))
out=$(bash -c 'source <("$0" completion bash) && complete -p ckpt' "$CKPT" 2>&1)
[[ "$out" == *"-F _ckpt ckpt"* ]] || fail "complete -p ckpt: $out"

check_completion() {  # WANT WORD...: the candidates, space-separated, exactly
  local want=$1
  shift
  checks=$((checks + 1))
  local got
  got=$(complete_words "$@" | sort | tr '\n' ' ' | sed 's/ $//')
  [ "$got" = "$want" ] || fail "ckpt $* <TAB>: got '$got', expected '$want'"
}
check_completion "inspect" ins
check_completion "compact completion convert" co
check_completion "--subtasks" inspect --sub
check_completion "--json" inspect --js
check_completion "--deep" validate x --de
check_completion "--quiet" inspect --qu
check_completion "always" --color al
check_completion "bash" completion ba
check_completion "inspect" help insp
check_completion "inspect" --color never ins
# Option values with choices, and file names for paths.
conv_to=$("$CKPT" convert --help | grep -oE -- '--to TEXT:\{[^}]*\}' | sed 's/.*{//; s/}//; s/,/ /g')
[ -n "$conv_to" ] && check_completion "$(tr ' ' '\n' <<<"$conv_to" | sort | tr '\n' ' ' | sed 's/ $//')" convert --to ""
mkdir -p "$TMP/snapdir"
: >"$TMP/snapfile"
check_completion "$TMP/snapdir $TMP/snapfile" inspect "$TMP/snap"

# Every command and every long option of every command appears in each script.
commands=$("$CKPT" --help | awk 'tolower($0) ~ /^subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1}')
for shell in bash zsh fish; do
  "$CKPT" completion $shell >"$TMP/ckpt.$shell"
  for cmd in $commands; do
    checks=$((checks + 1))
    grep -qw -- "$cmd" "$TMP/ckpt.$shell" || fail "$shell: no $cmd"
    for o in $("$CKPT" "$cmd" --help | grep -E '^ +-' | sed -E 's/^ +//; s/  .*//; s/ [A-Z].*//' | tr ',' '\n' |
      grep -E '^--[a-z]' | sort -u); do
      [ "$o" = --help ] && [ "$shell" = fish ] && o=help
      [ "$shell" = fish ] && o=${o#--}
      checks=$((checks + 1))
      grep -q -- "$o" "$TMP/ckpt.$shell" || fail "$shell: $cmd: no $o"
    done
  done
done
if command -v zsh >/dev/null 2>&1; then
  checks=$((checks + 1))
  zsh -n "$TMP/ckpt.zsh" || fail "zsh -n rejects the zsh script"
else
  echo "note: zsh not installed: the zsh script's syntax is not checked" >&2
fi
if command -v fish >/dev/null 2>&1; then
  checks=$((checks + 1))
  fish --no-execute "$TMP/ckpt.fish" || fail "fish --no-execute rejects the fish script"
else
  echo "note: fish not installed: the fish script's syntax is not checked" >&2
fi
checks=$((checks + 1))
bash -n "$TMP/ckpt.bash" || fail "bash -n rejects the bash script"
finish
