#!/usr/bin/env bash
# Git-style conventions: `ckpt help`, one-line usage errors with "did you mean", the one-line
# command list of `ckpt --help`, -q/--quiet, --color and NO_COLOR (issue items 5).
source "$(dirname "$0")/lib.sh"

# ckpt help [CMD] prints the same as --help.
expect_exit 0 -- "$CKPT" help inspect
"$CKPT" inspect --help >"$TMP/want"
checks=$((checks + 1))
cmp -s "$TMP/out" "$TMP/want" || fail "ckpt help inspect differs from ckpt inspect --help"
expect_exit 0 -- "$CKPT" help
"$CKPT" --help >"$TMP/want"
checks=$((checks + 1))
cmp -s "$TMP/out" "$TMP/want" || fail "ckpt help differs from ckpt --help"
expect_exit 2 -- "$CKPT" help inspekt
expect_err "^ckpt help: 'inspekt' is not a ckpt command \(did you mean inspect\?\)"

# The top-level list: one line per command (each line of the Subcommands section names one).
"$CKPT" --help | awk 'tolower($0) ~ /^subcommands:/ {on = 1; next} on && /^$/ {exit} on {print}' >"$TMP/list"
checks=$((checks + 1))
grep -qvE '^  [a-z]+ +[A-Z]' "$TMP/list" && fail "ckpt --help: a command's entry spans lines: $(grep -vE '^  [a-z]+ +[A-Z]' "$TMP/list" | head -1)"
checks=$((checks + 1))
[ "$(wc -l <"$TMP/list")" -ge 14 ] || fail "ckpt --help lists $(wc -l <"$TMP/list") commands"
# ... and the paragraph is in the command's own help.
expect_exit 0 -- "$CKPT" diff --help
expect_out "RocksDB .sst files that changed"

# Unknown command / option: one line, a suggestion, exit 2.
expect_exit 2 -- "$CKPT" insepct x
expect_err "^ckpt: 'insepct' is not a ckpt command \(did you mean inspect\?\); see 'ckpt --help'$"
checks=$((checks + 1))
[ "$(wc -l <"$TMP/err")" = 1 ] || fail "unknown command: $(wc -l <"$TMP/err") lines"
expect_exit 2 -- "$CKPT" ins
expect_err "did you mean inspect\?"
expect_exit 2 -- "$CKPT" inspect --jsn x
expect_err "^ckpt inspect: unknown option --jsn \(did you mean --json\?\); see 'ckpt inspect --help'$"
expect_exit 2 -- "$CKPT" validate --dep x
expect_err "^ckpt validate: unknown option --dep \(did you mean --deep\?\)"
expect_exit 2 -- "$CKPT" inspect --bogus-flag x
expect_err "^ckpt inspect: unknown option --bogus-flag; see 'ckpt inspect --help'$"
# CLI11's own errors, one line too.
expect_exit 2 -- "$CKPT" inspect
expect_err "^ckpt inspect: path is required; see 'ckpt inspect --help'$"
checks=$((checks + 1))
[ "$(wc -l <"$TMP/err")" = 1 ] || fail "missing path: $(wc -l <"$TMP/err") lines"
expect_exit 2 -- "$CKPT"
expect_err "^ckpt: a subcommand is required; see 'ckpt --help'$"
expect_exit 2 -- "$CKPT" --color=sometimes inspect x
expect_err "^ckpt"
checks=$((checks + 1))
[ "$(wc -l <"$TMP/err")" = 1 ] || fail "bad --color: $(wc -l <"$TMP/err") lines"
# Values that look like options are not taken for unknown options.
expect_exit 2 -- "$CKPT" validate --threads -3 /nonexistent
checks=$((checks + 1))
grep -q "unknown option" "$TMP/err" && fail "an option's value was taken for an option"

# --color / NO_COLOR: no escapes unless asked; always wins over NO_COLOR; auto is off without a TTY.
expect_exit 2 -- "$CKPT" inspekt
checks=$((checks + 1))
grep -q $'\033' "$TMP/err" && fail "colour without a TTY"
expect_exit 2 -- "$CKPT" --color=always inspekt
checks=$((checks + 1))
grep -q $'\033\[1;31mckpt:' "$TMP/err" || fail "--color=always: no colour"
expect_exit 2 -- env NO_COLOR=1 "$CKPT" --color=always inspekt
checks=$((checks + 1))
grep -q $'\033' "$TMP/err" || fail "--color=always under NO_COLOR: no colour"
expect_exit 2 -- "$CKPT" inspekt --color never
checks=$((checks + 1))
grep -q $'\033' "$TMP/err" && fail "--color never: colour"
if command -v script >/dev/null 2>&1; then
  checks=$((checks + 1))
  script -qec "$CKPT inspekt" /dev/null >"$TMP/tty" 2>&1
  grep -q $'\033\[1;31m' "$TMP/tty" || fail "--color=auto on a TTY: no colour"
  checks=$((checks + 1))
  NO_COLOR=1 script -qec "$CKPT inspekt" /dev/null >"$TMP/tty" 2>&1
  grep -q $'\033\[' "$TMP/tty" && fail "NO_COLOR on a TTY: colour"
  checks=$((checks + 1))
  NO_COLOR= script -qec "$CKPT inspekt" /dev/null >"$TMP/tty" 2>&1
  grep -q $'\033\[1;31m' "$TMP/tty" || fail "empty NO_COLOR on a TTY: no colour"
fi

# Verdicts and findings are coloured on request, never in --json.
if [ -d "$FIXTURES" ]; then
  SNAP=$FIXTURES/bravo-flink1.6-rocksdb-transformed-savepoint
  expect_exit 1 -- "$CKPT" --color=always validate "$SNAP"
  checks=$((checks + 1))
  grep -q $': \033\[31minvalid\033\[0m (' "$TMP/out" || fail "validate: the verdict is not red"
  checks=$((checks + 1))
  grep -q $'^\033\[33mwarning\033\[0m ' "$TMP/out" || fail "validate: warnings are not yellow"
  expect_exit 1 -- "$CKPT" validate "$SNAP"
  checks=$((checks + 1))
  grep -q $'\033' "$TMP/out" && fail "validate: colour without a TTY"
  expect_exit 1 -- "$CKPT" validate --color=always --json "$SNAP"
  checks=$((checks + 1))
  grep -q $'\033' "$TMP/out" && fail "validate --json: colour"
  A=$FIXTURES/operatorstate-complexKeyed-flink1.10
  B=$FIXTURES/operatorstate-nonKeyed-flink1.10
  if [ -d "$A" ] && [ -d "$B" ]; then
    "$CKPT" --color=always diff "$A" "$B" >"$TMP/out" 2>"$TMP/err"
    "$CKPT" diff "$A" "$B" >"$TMP/plain" 2>&1
    if grep -qE '^[+-] ' "$TMP/plain"; then
      checks=$((checks + 1))
      grep -qE $'^\033\[3[12]m[+-] ' "$TMP/out" || fail "diff: added/removed operators are not coloured"
    fi
  fi
fi

# -q/--quiet is accepted before and after the command.
expect_exit 2 -- "$CKPT" -q inspect /nonexistent
expect_err "^ckpt inspect: "
expect_exit 2 -- "$CKPT" inspect --quiet /nonexistent
expect_err "^ckpt inspect: "

# -q on commands that write: what they did is not said (stdout empty); what they were asked to
# show (a dry run's plan) still is.
q=$TMP/quiet
"$CKPT" run --generate 20000 --vocabulary 200 -p 2 --rate 20000 --keep-checkpoints --output "$q/out" \
  -D execution.checkpointing.interval=30ms -D "state.checkpoints.dir=$q/ck" -D state.checkpoints.num-retained=3 \
  >"$q.log" 2>&1 || fail "quiet: pipeline run"
snap=$(latest_checkpoint "$q/ck")
quiet_out() { # LABEL CMD...: exit 0 and nothing on stdout
  local label=$1
  shift
  expect_exit 0 -- "$@"
  checks=$((checks + 1))
  [ -s "$TMP/out" ] && fail "-q $label printed: $(head -1 "$TMP/out")"
}
quiet_out "pack" "$CKPT" -q pack "$snap" "$q/a.ckpt"
quiet_out "unpack" "$CKPT" unpack -q "$q/a.ckpt" "$q/unpacked"
quiet_out "convert --self-contained" "$CKPT" convert -q "$snap" --self-contained "$q/sc"
quiet_out "prune" "$CKPT" prune -q --retain 1 --grace 0s "$q/ck"
quiet_out "gc" "$CKPT" gc -q --grace 0s "$q/ck"
expect_exit 0 -- "$CKPT" pack -q --dry-run "$snap" "$q/b.ckpt"
expect_out "would pack"
finish
